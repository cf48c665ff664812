/**
 * Who the projector counts and names: pure, so it is unit-tested without a browser. Everyone
 * connected (shared document or training room) except the owner counts as a participant; names
 * come from the server's member list (renames apply) and names the owner hid are left out.
 */
import type { MemberInfo, MemberRole } from '@/server/protocol';

export interface OnlinePeer {
  memberId: string;
  name: string;
  role: MemberRole;
}

export interface OnlineClient {
  /** `<memberId>:<socketId>` (see the training room). */
  clientId: string;
  name: string;
}

export interface ProjectorRoster {
  /** Participants online (not the owner), hidden ones included. */
  count: number;
  /** Participants whose name may be shown, by name. */
  shown: { memberId: string; name: string }[];
  /** Participants whose name the owner hid. */
  hidden: number;
}

/** The member a training client belongs to. */
export function memberOfClient(clientId: string): string {
  const colon = clientId.indexOf(':');
  return colon < 0 ? clientId : clientId.slice(0, colon);
}

export function projectorRoster(peers: readonly OnlinePeer[], clients: readonly OnlineClient[], members: readonly MemberInfo[] | null): ProjectorRoster {
  const known = new Map((members ?? []).map((m) => [m.id, m]));
  const online = new Map<string, { name: string; role: MemberRole | null }>();
  for (const p of peers) online.set(p.memberId, { name: p.name, role: p.role });
  for (const c of clients) {
    const id = memberOfClient(c.clientId);
    if (!online.has(id)) online.set(id, { name: c.name, role: null });
  }
  const shown: ProjectorRoster['shown'] = [];
  let count = 0;
  let hidden = 0;
  for (const [memberId, seen] of online) {
    const member = known.get(memberId);
    const role = member?.role ?? seen.role;
    if (role === 'owner') continue;
    count++;
    if (member?.hidden) hidden++;
    else shown.push({ memberId, name: member?.name ?? seen.name });
  }
  shown.sort((a, b) => a.name.localeCompare(b.name) || a.memberId.localeCompare(b.memberId));
  return { count, shown, hidden };
}
