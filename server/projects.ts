import * as Y from 'yjs';
import { AppError, TEMPLATES, type TemplateName } from './protocol';
import { seedSpecDoc } from './protocol/spec-doc';
import { hashToken, newJoinCode, newSlug, normalizeJoinCode, type TicketStore, type TokenSigner } from './auth';
import type { MemberRow, ProjectRow, Repository } from './db/repository';

/** What a member who left is stored as (never shown as a person: they are no longer listed). */
export const FORMER_MEMBER_NAME = 'Former member';

/** The unsigned token format of earlier versions (32 random bytes, base64url). */
const LEGACY_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface Principal {
  member: MemberRow;
  project: ProjectRow;
}

/** Projects and membership: creation, joining by code, and turning credentials into members. */
export class ProjectService {
  constructor(
    private readonly repo: Repository,
    private readonly tickets: TicketStore,
    private readonly tokens: TokenSigner,
  ) {}

  /**
   * Creates a project and its owner, its shared spec seeded from a template; the owner token is
   * returned once and stored only hashed.
   */
  async create(input: { name: string; ownerName?: string; slug?: string; joinCode?: string; template?: TemplateName }): Promise<Principal & { token: string }> {
    const token = await this.tokens.issue();
    const { project, owner } = await this.repo.createProject({
      slug: input.slug ?? newSlug(input.name),
      name: input.name,
      joinCode: input.joinCode ?? newJoinCode(),
      owner: { name: input.ownerName ?? 'Owner', tokenHash: hashToken(token) },
    });
    const doc = new Y.Doc();
    seedSpecDoc(doc, TEMPLATES[input.template ?? 'spiral'].spec);
    await this.repo.appendDocUpdate(project.id, Y.encodeStateAsUpdate(doc));
    doc.destroy();
    return { project, member: owner, token };
  }

  /** A new join code for the project (owner checked by the caller); the old one stops working at once. */
  async rotateJoinCode(principal: Principal): Promise<string> {
    const project = await this.repo.setJoinCode(principal.project.id, newJoinCode());
    return project.joinCode;
  }

  /**
   * Revokes a member's token (owner checked by the caller): it is replaced by the hash of a fresh
   * random token nobody holds, so the member's link and cookie stop working, and tickets they
   * still hold are refused; they are no longer listed as a member, but their contributions stay
   * attributed. The owner cannot revoke themselves.
   */
  async revokeMember(principal: Principal, memberId: string): Promise<void> {
    const members = await this.repo.listMembers(principal.project.id);
    const member = members.find((m) => m.id === memberId && !m.revoked);
    if (!member) throw new AppError('not_found', 'No such member in this project.');
    if (member.role === 'owner') throw new AppError('bad_request', 'The owner cannot be revoked.');
    await this.repo.markMemberRevoked(member.id, hashToken(await this.tokens.issue()));
  }

  /**
   * The owner renames a member, switches them between member and viewer, or hides their name on
   * the projector (owner checked by the caller). The owner's own role never changes here.
   */
  async updateMember(principal: Principal, memberId: string, patch: { name?: string; role?: 'member' | 'viewer'; hidden?: boolean }): Promise<{ member: MemberRow; roleChanged: boolean }> {
    const member = (await this.repo.listMembers(principal.project.id)).find((m) => m.id === memberId && !m.revoked);
    if (!member) throw new AppError('not_found', 'No such member in this project.');
    if (patch.role !== undefined && member.role === 'owner') throw new AppError('bad_request', 'The owner’s role cannot change.');
    const updated = await this.repo.updateMember(member.id, patch);
    return { member: updated, roleChanged: updated.role !== member.role };
  }

  /**
   * The member leaves the project: their token stops working and their name is erased; the row
   * stays so their contributions keep their foreign keys, shown as anonymous from now on. The
   * owner cannot leave (they delete the project instead).
   */
  async leave(principal: Principal): Promise<void> {
    if (principal.member.role === 'owner') throw new AppError('forbidden', 'The owner cannot leave the project; delete it instead.');
    await this.repo.markMemberLeft(principal.member.id, { anonymousName: FORMER_MEMBER_NAME, tokenHash: hashToken(await this.tokens.issue()) });
  }

  /** Deletes the project and all its data (owner checked by the caller); `confirmName` must repeat its name. */
  async deleteProject(principal: Principal, confirmName: string): Promise<void> {
    if (principal.member.role !== 'owner') throw new AppError('forbidden', 'Only the project owner can delete the project.');
    if (confirmName.trim() !== principal.project.name.trim()) throw new AppError('bad_request', 'confirmName: type the project’s name exactly to delete it.');
    await this.repo.deleteProject(principal.project.id);
  }

  /** Locks or unlocks the shared spec (owner checked by the caller). */
  async setSpecLocked(principal: Principal, locked: boolean): Promise<ProjectRow> {
    return this.repo.updateProject(principal.project.id, { specLocked: locked });
  }

  /** Joins a project by its code as a member (default) or as a viewer who only watches. */
  async join(input: { code: string; name: string; role?: 'member' | 'viewer' }): Promise<Principal & { token: string }> {
    const project = await this.repo.findProjectByJoinCode(normalizeJoinCode(input.code));
    if (!project) throw new AppError('wrong_code');
    const token = await this.tokens.issue();
    const member = await this.repo.addMember({ projectId: project.id, name: input.name, role: input.role ?? 'member', tokenHash: hashToken(token) });
    return { project, member, token };
  }

  /** The member a token belongs to, checked against the project in the request. */
  async authenticate(slug: string, token: string | null | undefined): Promise<Principal> {
    // A token this server did not sign is refused without touching the database.
    // Tokens issued before signing (43 random base64url characters, no tag) still work, so owner
    // links saved from an earlier version keep their project; they are as unguessable as before.
    if (!token || !(LEGACY_TOKEN.test(token) || (await this.tokens.verify(token)))) throw new AppError('unauthorized');
    const found = await this.repo.findMemberByTokenHash(hashToken(token));
    if (!found || found.project.slug !== slug) throw new AppError('unauthorized');
    return found;
  }

  /** Gives a member a new token (the old one stops working); used for the demo owner link. */
  async rotateToken(memberId: string): Promise<string> {
    const token = await this.tokens.issue();
    await this.repo.setMemberTokenHash(memberId, hashToken(token));
    return token;
  }

  /**
   * A new owner token for the owner link: the old one (its link and every browser signed in with
   * it) stops working at once. Only the owner may; the caller gives this browser the new cookie.
   */
  async rotateOwnerToken(principal: Principal): Promise<string> {
    if (principal.member.role !== 'owner') throw new AppError('forbidden', 'Only the project owner can make a new owner link.');
    return this.rotateToken(principal.member.id);
  }

  issueTicket(principal: Principal): { ticket: string; expiresAt: number } {
    return this.tickets.issue({ memberId: principal.member.id, projectId: principal.project.id, slug: principal.project.slug });
  }

  /** The member behind a ticket, if the ticket is valid for this project. */
  async redeemTicket(slug: string, ticket: string): Promise<Principal> {
    const grant = this.tickets.check(ticket);
    if (!grant || grant.slug !== slug) throw new AppError('unauthorized', 'The ticket is invalid or expired.');
    const project = await this.repo.findProjectBySlug(slug);
    const member = project ? (await this.repo.listMembers(project.id)).find((m) => m.id === grant.memberId) : undefined;
    // A ticket fetched just before its member was removed dies with the membership.
    if (!project || !member || member.revoked) throw new AppError('unauthorized');
    return { project, member };
  }

  /** Authenticates a socket handshake payload: a token (headless) or a ticket (browser). */
  async authenticateSocket(auth: { slug: string; token: string } | { slug: string; ticket: string }): Promise<Principal> {
    return 'token' in auth ? this.authenticate(auth.slug, auth.token) : this.redeemTicket(auth.slug, auth.ticket);
  }
}
