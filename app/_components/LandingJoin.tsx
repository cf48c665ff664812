'use client';

import { useRouter } from 'next/navigation';
import { JoinForm } from './JoinForm';

/** The landing page's join form: opens the project it joined. */
export function LandingJoin() {
  const router = useRouter();
  return <JoinForm onJoined={(slug) => router.push(`/p/${encodeURIComponent(slug)}`)} />;
}
