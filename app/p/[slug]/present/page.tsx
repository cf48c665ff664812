import type { Metadata } from 'next';
import { PresentGate } from '@/app/_components/classroom/PresentGate';

export const metadata: Metadata = { title: 'Projector' };

/** /p/{slug}/present: the classroom projector view (join code, QR code, live charts). */
export default async function PresentPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  return <PresentGate slug={decodeURIComponent(slug)} />;
}
