/** Awareness state every browser publishes in the project's Yjs document. */
export interface PresenceUser {
  name: string;
  color: string;
  memberId: string;
  role: 'owner' | 'member' | 'viewer';
}

export interface PresenceState {
  user: PresenceUser;
  /** Field path being edited (e.g. "learningRate", "layers.<id>.units"), or null. */
  editing: string | null;
}

/** A peer as the UI shows it: one entry per awareness client. */
export interface Peer extends PresenceState {
  clientId: number;
  isSelf: boolean;
}

/** Colours readable as a ring and as a name tag with white text. */
const PALETTE = ['#e11d48', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#c026d3', '#65a30d', '#dc2626', '#4f46e5'];

/** A stable colour per member. */
export function colorFor(memberId: string): string {
  let hash = 0;
  for (let i = 0; i < memberId.length; i++) hash = (hash * 31 + memberId.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length]!;
}

export function isPresenceState(value: unknown): value is PresenceState {
  if (!value || typeof value !== 'object') return false;
  const user = (value as { user?: unknown }).user;
  if (!user || typeof user !== 'object') return false;
  const u = user as Record<string, unknown>;
  return typeof u.name === 'string' && typeof u.color === 'string' && typeof u.memberId === 'string';
}

/** Other people editing a field right now (not this browser). */
export function editorsOf(peers: Peer[], path: string): Peer[] {
  return peers.filter((p) => !p.isSelf && p.editing === path);
}

/** One entry per member (a member may have several tabs open), this browser's member first. */
export function uniqueMembers(peers: Peer[]): Peer[] {
  const byMember = new Map<string, Peer>();
  for (const peer of peers) {
    const existing = byMember.get(peer.user.memberId);
    if (!existing || (peer.isSelf && !existing.isSelf)) byMember.set(peer.user.memberId, peer);
  }
  return [...byMember.values()].sort((a, b) => Number(b.isSelf) - Number(a.isSelf) || a.user.name.localeCompare(b.user.name));
}
