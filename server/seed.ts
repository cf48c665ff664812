import type { Repository } from './db/repository';
import type { ProjectService } from './projects';

export const DEMO_SLUG = 'demo';
export const DEMO_JOIN_CODE = 'DEMO42';

/**
 * Makes sure the demo project exists and gives its owner a fresh token, so whoever starts the
 * server gets an owner link (printed once; only its hash is stored).
 */
export async function seedDemo(repo: Repository, projects: ProjectService): Promise<{ slug: string; joinCode: string; ownerToken: string }> {
  const existing = await repo.findProjectBySlug(DEMO_SLUG);
  if (!existing) {
    const created = await projects.create({ name: 'Spiral demo', ownerName: 'Demo owner', slug: DEMO_SLUG, joinCode: DEMO_JOIN_CODE });
    return { slug: DEMO_SLUG, joinCode: DEMO_JOIN_CODE, ownerToken: created.token };
  }
  const owner = (await repo.listMembers(existing.id)).find((m) => m.role === 'owner');
  if (!owner) throw new Error('The demo project has no owner');
  return { slug: DEMO_SLUG, joinCode: existing.joinCode, ownerToken: await projects.rotateToken(owner.id) };
}
