import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AppError, YJS_CLOSE, type ModelSpec } from '../protocol';
import { FEATURES_MAP, LAYERS_MAP, SPEC_MAP, readSpec } from '../protocol/spec-doc';
import type { ProjectService } from '../projects';
import type { Repository } from '../db/repository';
import type { Logger } from '../log';
import { CollabRoom } from './room';

/** Largest Yjs frame a client may send (a whole offline session's edits fit easily). */
export const MAX_YJS_FRAME = 2 * 1024 * 1024;
/** Rooms with no connection are written out and dropped from memory after this long. */
const IDLE_UNLOAD_MS = 60_000;

/** Yjs rooms per project, the authenticated websocket endpoint `/yjs/<slug>?ticket=…`. */
export class CollabService {
  private readonly rooms = new Map<string, Promise<CollabRoom>>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_YJS_FRAME });
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly specListeners: ((projectId: string, spec: ModelSpec) => void)[] = [];
  /**
   * Spec lock per project as last set (the API) or read (a connection's fresh project row); kept
   * across room unloads so a lock set while nobody is connected holds for the next one.
   */
  private readonly locks = new Map<string, boolean>();
  /** Projects deleted while this server runs: their rooms are never loaded (or written) again. */
  private readonly deleted = new Set<string>();

  constructor(
    private readonly repo: Repository,
    private readonly projects: ProjectService,
    private readonly log: Logger,
  ) {
    // Drop peers that vanished without a close frame (laptop lid closed, Wi-Fi gone).
    this.pingTimer = setInterval(() => {
      for (const ws of this.wss.clients) {
        const alive = ws as typeof ws & { alive?: boolean };
        if (alive.alive === false) ws.terminate();
        else {
          alive.alive = false;
          ws.ping();
        }
      }
    }, 30_000);
    this.pingTimer.unref();
  }

  /** The room of a project, loading it from the database on first use. */
  room(projectId: string): Promise<CollabRoom> {
    let room = this.rooms.get(projectId);
    if (!room && this.deleted.has(projectId)) return Promise.reject(new AppError('not_found'));
    if (!room) {
      room = CollabRoom.load(projectId, this.repo, this.log);
      this.rooms.set(projectId, room);
      room.then(
        (loaded) => this.watchSpec(projectId, loaded),
        () => this.rooms.delete(projectId),
      );
    }
    return room;
  }

  /**
   * Calls `listener` with the project's spec after edits (valid specs only; a half-edited one is
   * skipped). Edits landing in the same turn are reported once.
   */
  onSpecEdit(listener: (projectId: string, spec: ModelSpec) => void): void {
    this.specListeners.push(listener);
  }

  private watchSpec(projectId: string, room: CollabRoom): void {
    let scheduled = false;
    const changed = () => {
      if (scheduled || this.specListeners.length === 0) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        const { spec } = readSpec(room.doc);
        if (spec) for (const listener of this.specListeners) listener(projectId, spec);
      });
    };
    // Only the spec's own types: notes and anything else in the document do not re-read the spec.
    room.doc.getMap(SPEC_MAP).observe(changed);
    room.doc.getMap(FEATURES_MAP).observe(changed);
    room.doc.getMap(LAYERS_MAP).observeDeep(changed);
  }

  /** The project's current spec as the shared document holds it. */
  async currentSpec(projectId: string): Promise<ReturnType<typeof readSpec>> {
    const room = await this.room(projectId);
    return readSpec(room.doc);
  }

  /** Handles an HTTP upgrade on /yjs/…: authenticates first, then hands the socket to ws. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const slug = decodeURIComponent(url.pathname.slice('/yjs/'.length));
    const ticket = url.searchParams.get('ticket') ?? '';
    // The projector asks for a watch-only connection: never an editor, whatever the role.
    const watch = url.searchParams.get('mode') === 'watch';
    let principal;
    try {
      principal = await this.projects.redeemTicket(slug, ticket);
    } catch (error) {
      const status = error instanceof AppError ? error.status : 500;
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    if (!this.locks.has(principal.project.id)) this.locks.set(principal.project.id, principal.project.specLocked);
    const room = await this.room(principal.project.id);
    this.applyLock(principal.project.id, room);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      (ws as typeof ws & { alive?: boolean }).alive = true;
      ws.on('pong', () => ((ws as typeof ws & { alive?: boolean }).alive = true));
      const projectId = principal.project.id;
      if (this.deleted.has(projectId)) return ws.close(YJS_CLOSE.project_deleted.code, YJS_CLOSE.project_deleted.reason);
      clearTimeout(this.idleTimers.get(projectId));
      room.addConnection(ws, principal.member.id, { role: principal.member.role, watch });
      ws.on('close', () => this.scheduleUnload(projectId, room));
      this.log.debug({ slug, member: principal.member.id }, 'yjs connected');
    });
  }

  private scheduleUnload(projectId: string, room: CollabRoom): void {
    if (room.connectionCount > 0 || this.deleted.has(projectId)) return;
    clearTimeout(this.idleTimers.get(projectId));
    const timer = setTimeout(() => {
      if (room.connectionCount > 0 || this.deleted.has(projectId)) return;
      this.idleTimers.delete(projectId);
      void room.flush().then(() => {
        if (room.connectionCount > 0) return;
        this.rooms.delete(projectId);
        room.destroy();
      });
    }, IDLE_UNLOAD_MS);
    timer.unref();
    this.idleTimers.set(projectId, timer);
  }

  private applyLock(projectId: string, room: CollabRoom): void {
    const locked = this.locks.get(projectId) ?? false;
    if (room.settings.specLocked !== locked) room.announce({ specLocked: locked });
  }

  /** The owner locked or unlocked the spec: from now on the room refuses (or accepts) non-owners' edits. */
  async setSpecLocked(projectId: string, locked: boolean): Promise<void> {
    this.locks.set(projectId, locked);
    const room = this.rooms.get(projectId);
    if (room) this.applyLock(projectId, await room);
  }

  /**
   * The owner changed a member (name, role, hidden): views showing members are told to refetch;
   * after a role change the member's connections close, so they reconnect with the new role.
   */
  async memberChanged(projectId: string, memberId: string, roleChanged: boolean): Promise<void> {
    const pending = this.rooms.get(projectId);
    if (!pending) return;
    const room = await pending;
    if (roleChanged) room.closeMember(memberId, YJS_CLOSE.role_changed.code, YJS_CLOSE.role_changed.reason);
    room.announce({ membersChanged: true });
  }

  /**
   * Drops a revoked (or departed: `close` = YJS_CLOSE.left) member's live Yjs connections in a
   * project whose room is loaded, and tells views showing members to refetch.
   */
  async disconnectMember(projectId: string, memberId: string, close: { code: number; reason: string } = YJS_CLOSE.revoked): Promise<void> {
    const pending = this.rooms.get(projectId);
    if (!pending) return;
    const room = await pending;
    room.closeMember(memberId, close.code, close.reason);
    room.announce({ membersChanged: true });
  }

  /**
   * The project is being deleted: every connection closes (4010, "the project was deleted"),
   * writes already accepted finish, and the room is dropped for good. It is never loaded, flushed
   * or unloaded again, so nothing written after the deletion can bring the document back.
   */
  async closeProject(projectId: string): Promise<void> {
    this.deleted.add(projectId);
    clearTimeout(this.idleTimers.get(projectId));
    this.idleTimers.delete(projectId);
    const pending = this.rooms.get(projectId);
    this.rooms.delete(projectId);
    const room = await pending?.catch(() => null);
    if (!room) return;
    room.closeAll(YJS_CLOSE.project_deleted.code, YJS_CLOSE.project_deleted.reason);
    await room.enqueue(() => undefined); // frames already queued are handled (and refused or stored) first
    await room.flush();
    room.destroy();
  }

  /** Closes all connections and writes every room's state (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    const rooms = await Promise.allSettled([...this.rooms.values()]);
    for (const r of rooms) if (r.status === 'fulfilled') r.value.closeAll();
    await Promise.all(rooms.map((r) => (r.status === 'fulfilled' ? r.value.flush().then(() => r.value.destroy()) : undefined)));
    this.rooms.clear();
    this.wss.close();
  }
}
