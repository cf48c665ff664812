import { z } from 'zod';
import { MEMBER_ROLES } from '@/server/protocol';

/**
 * "My projects": the projects this browser belongs to, kept in localStorage (the sign-in itself
 * is an httpOnly cookie per project, which pages cannot list). Filled in by the API client
 * whenever it learns a project (create, join, owner link, ticket, project info).
 */
export const MY_PROJECTS_KEY = 'cotrain.myProjects';
/** Oldest entries beyond this are dropped. */
export const MAX_MY_PROJECTS = 50;

const entrySchema = z.object({
  slug: z.string().min(1).max(64),
  /** Null until the project's name was seen (a join answers with the slug only). */
  name: z.string().max(200).nullable(),
  role: z.enum(MEMBER_ROLES),
  /** Epoch milliseconds. */
  lastOpened: z.number().finite(),
});
export type MyProject = z.infer<typeof entrySchema>;
export interface ProjectSighting {
  slug: string;
  name?: string | null;
  role?: MyProject['role'];
}

/** The stored list, newest first; anything unreadable is dropped rather than breaking the page. */
export function parseMyProjects(raw: string | null): MyProject[] {
  if (!raw) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(json)) return [];
  const seen = new Set<string>();
  const out: MyProject[] = [];
  for (const item of json) {
    const parsed = entrySchema.safeParse(item);
    if (!parsed.success || seen.has(parsed.data.slug)) continue;
    seen.add(parsed.data.slug);
    out.push(parsed.data);
  }
  return out.sort((a, b) => b.lastOpened - a.lastOpened).slice(0, MAX_MY_PROJECTS);
}

/** The list after seeing a project now: added or moved to the top, keeping what the sighting lacks. */
export function withSighting(list: readonly MyProject[], seen: ProjectSighting, now: number): MyProject[] {
  const before = list.find((p) => p.slug === seen.slug);
  const entry: MyProject = {
    slug: seen.slug,
    name: seen.name ?? before?.name ?? null,
    role: seen.role ?? before?.role ?? 'member',
    lastOpened: now,
  };
  return [entry, ...list.filter((p) => p.slug !== seen.slug)].slice(0, MAX_MY_PROJECTS);
}

export function withoutProject(list: readonly MyProject[], slug: string): MyProject[] {
  return list.filter((p) => p.slug !== slug);
}

// ---- localStorage shell ----

const CHANGED = 'cotrain:my-projects';

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null; // storage disabled
  }
}

function write(list: MyProject[]): void {
  const store = storage();
  if (!store) return;
  try {
    store.setItem(MY_PROJECTS_KEY, JSON.stringify(list));
    window.dispatchEvent(new Event(CHANGED));
  } catch {
    // full or private mode: the list is a convenience, never worth an error
  }
}

export function readMyProjects(): MyProject[] {
  return parseMyProjects(storage()?.getItem(MY_PROJECTS_KEY) ?? null);
}

/** Remembers that this browser is in a project (called by the API client). */
export function recordProject(seen: ProjectSighting): void {
  if (!storage()) return;
  write(withSighting(readMyProjects(), seen, Date.now()));
}

/** Removes a project from the list (it does not sign this browser out). */
export function forgetProject(slug: string): void {
  write(withoutProject(readMyProjects(), slug));
}

/** Calls back when the list changes, in this tab or another. */
export function subscribeMyProjects(onChange: () => void): () => void {
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || e.key === MY_PROJECTS_KEY) onChange();
  };
  window.addEventListener(CHANGED, onChange);
  window.addEventListener('storage', onStorage);
  return () => {
    window.removeEventListener(CHANGED, onChange);
    window.removeEventListener('storage', onStorage);
  };
}

let cache: { raw: string | null; list: MyProject[] } | null = null;
/** A stable snapshot for useSyncExternalStore: the same array until the stored text changes. */
export function myProjectsSnapshot(): MyProject[] {
  const raw = storage()?.getItem(MY_PROJECTS_KEY) ?? null;
  if (!cache || cache.raw !== raw) cache = { raw, list: parseMyProjects(raw) };
  return cache.list;
}
