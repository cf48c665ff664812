import type { Metadata } from 'next';
import { ClaimLink } from '@/app/_components/ClaimLink';

export const metadata: Metadata = { title: 'Open owner link', robots: { index: false } };

/** `/claim#<slug>.<token>`: signs this browser in with a token carried in the URL fragment. */
export default function ClaimPage() {
  return <ClaimLink />;
}
