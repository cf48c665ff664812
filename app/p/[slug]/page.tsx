import type { Metadata } from 'next';
import { ProjectGate } from '@/app/_components/ProjectGate';

export const metadata: Metadata = { title: 'Project' };

export default async function ProjectPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { slug } = await params;
  const { code } = await searchParams;
  return <ProjectGate slug={decodeURIComponent(slug)} code={typeof code === 'string' ? code : undefined} />;
}
