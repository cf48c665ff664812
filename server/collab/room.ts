import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { WebSocket } from 'ws';
import { seedSpecDoc } from '../protocol/spec-doc';
import { YJS_CLOSE, type RoomAwareness } from '../protocol/messages';
import type { Repository, Role } from '../db/repository';
import type { Logger } from '../log';
import { isDbUnavailable } from '../db/db-health';
import { DocGuard } from './doc-guard';

/** y-websocket message types (first varUint of every frame). */
const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;

/** The most a project's shared document may hold (an estimate, see docBytes); beyond it edits are refused. */
export const MAX_DOC_BYTES = 4 * 1024 * 1024;

/** Compact the update log into one state after this many appended updates. */
const COMPACT_EVERY = 500;

/** Who is on a connection: their role, and whether it asked to watch only (the projector). */
export interface ConnectionAccess {
  role: Role;
  watch: boolean;
}

interface Connection extends ConnectionAccess {
  ws: WebSocket;
  memberId: string;
  /** Awareness client ids this connection announced, removed when it closes. */
  clientIds: Set<number>;
}

/**
 * One project's shared document. Every update a client sends is appended to the database
 * before it is applied and relayed, so anything another client has seen is already durable.
 * Messages are processed strictly in arrival order through one queue.
 */
export class CollabRoom {
  readonly doc = new Y.Doc({ gc: true });
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  private readonly conns = new Map<WebSocket, Connection>();
  private queue: Promise<void> = Promise.resolve();
  private lastSeq = 0;
  private sinceCompact = 0;
  /** Updates waiting for the next group commit, in arrival order. */
  private pending: { update: Uint8Array; origin: unknown; done: (error?: unknown) => void }[] = [];
  /** The write loop, while one runs. */
  private writing: Promise<void> | null = null;
  /** What the room announces as the server's awareness state (see roomAwarenessSchema). */
  private meta: RoomAwareness = { specLocked: false, membersRev: 0 };
  /** Refuses updates that would put a value of the wrong type in the spec (set once loaded). */
  private guard: DocGuard | null = null;
  /** Upper estimate of the stored document's size: the last compacted state plus updates since. */
  private docBytes = 0;

  private constructor(
    readonly projectId: string,
    private readonly repo: Repository,
    private readonly log: Logger,
  ) {
    // The server's own awareness state is the room's settings (spec lock, members revision);
    // Awareness renews it every 15 s, so clients never time it out.
    this.awareness.setLocalState({ room: this.meta });
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeUpdate(encoder, update);
      this.broadcast(encoding.toUint8Array(encoder), origin instanceof Object && 'send' in origin ? (origin as WebSocket) : null);
    });
    this.awareness.on('update', ({ added, updated, removed }: Record<'added' | 'updated' | 'removed', number[]>, origin: unknown) => {
      const changed = added.concat(updated, removed);
      const conn = origin ? this.conns.get(origin as WebSocket) : undefined;
      if (conn) {
        for (const id of added) conn.clientIds.add(id);
        for (const id of removed) conn.clientIds.delete(id);
      }
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
      this.broadcast(encoding.toUint8Array(encoder), null);
    });
  }

  /** Loads a room from the database; an empty document is seeded with the default spec. */
  static async load(projectId: string, repo: Repository, log: Logger): Promise<CollabRoom> {
    const room = new CollabRoom(projectId, repo, log);
    const { state, updates } = await repo.loadDoc(projectId);
    if (state) Y.applyUpdate(room.doc, state, 'load');
    for (const { seq, update } of updates) {
      Y.applyUpdate(room.doc, update, 'load');
      room.lastSeq = Math.max(room.lastSeq, seq);
    }
    room.sinceCompact = updates.length;
    if (room.doc.getMap('spec').size === 0) {
      const seed = new Y.Doc();
      seedSpecDoc(seed);
      await room.persistAndApply(Y.encodeStateAsUpdate(seed), 'seed');
    }
    room.docBytes = Y.encodeStateAsUpdate(room.doc).length;
    room.guard = new DocGuard(() => [Y.encodeStateAsUpdate(room.doc), ...room.pending.map((p) => p.update)]);
    return room;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Whether the spec is locked (only the owner may edit) and the members revision, as announced. */
  get settings(): RoomAwareness {
    return this.meta;
  }

  /** Changes the room's settings and announces them to every client (awareness). */
  announce(patch: { specLocked?: boolean; membersChanged?: boolean }): void {
    this.meta = {
      specLocked: patch.specLocked ?? this.meta.specLocked,
      membersRev: this.meta.membersRev + (patch.membersChanged ? 1 : 0),
    };
    this.awareness.setLocalState({ room: this.meta });
  }

  /** Starts serving a websocket that has already been authenticated for this project. */
  addConnection(ws: WebSocket, memberId: string, access: ConnectionAccess = { role: 'member', watch: false }): void {
    const conn: Connection = { ws, memberId, role: access.role, watch: access.watch, clientIds: new Set() };
    this.conns.set(ws, conn);
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return ws.close(1003, 'binary frames only');
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.enqueue(() => this.handleMessage(conn, bytes));
    });
    ws.on('close', () => this.removeConnection(conn));
    ws.on('error', () => ws.terminate());

    // Greet: our state vector (sync step 1) and everyone's presence.
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(encoder, this.doc);
    this.send(ws, encoding.toUint8Array(encoder));
    const states = this.awareness.getStates();
    if (states.size > 0) this.send(ws, this.awarenessFrame([...states.keys()]));
  }

  /** Runs `task` after everything already queued, so updates are handled in arrival order. */
  enqueue(task: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(task).catch((error: unknown) => this.log.error({ err: error, projectId: this.projectId }, 'collab task failed'));
    this.queue = next;
    return next;
  }

  /** Writes all queued work and compacts the log into one state (on idle and on shutdown). */
  flush(): Promise<void> {
    return this.enqueue(async () => {
      await this.writing;
      await this.compact();
    });
  }

  private async handleMessage(conn: Connection, bytes: Uint8Array): Promise<void> {
    if (!this.conns.has(conn.ws)) return;
    let decoder: decoding.Decoder;
    let type: number;
    try {
      decoder = decoding.createDecoder(bytes);
      type = decoding.readVarUint(decoder);
    } catch {
      return conn.ws.close(1003, 'unreadable frame');
    }
    try {
      switch (type) {
        case MESSAGE_SYNC:
          return await this.handleSync(conn, decoder);
        case MESSAGE_AWARENESS:
          awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), conn.ws);
          return;
        case MESSAGE_QUERY_AWARENESS:
          this.send(conn.ws, this.awarenessFrame([...this.awareness.getStates().keys()]));
          return;
        default:
          conn.ws.close(1003, `unknown message type ${type}`);
      }
    } catch (error) {
      this.log.warn({ err: error, memberId: conn.memberId }, 'bad Yjs frame; closing');
      conn.ws.close(1003, 'malformed Yjs message');
    }
  }

  private async handleSync(conn: Connection, decoder: decoding.Decoder): Promise<void> {
    const syncType = decoding.readVarUint(decoder);
    if (syncType === syncProtocol.messageYjsSyncStep1) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeSyncStep2(encoder, this.doc, decoding.readVarUint8Array(decoder));
      this.send(conn.ws, encoding.toUint8Array(encoder));
      return;
    }
    if (syncType === syncProtocol.messageYjsSyncStep2 || syncType === syncProtocol.messageYjsUpdate) {
      const update = decoding.readVarUint8Array(decoder);
      // Validate before persisting: a malformed update must never reach the log.
      Y.decodeUpdate(update);
      const refusal = this.refusal(conn);
      if (refusal) {
        // A read-only client still answers sync step 1 with what it has: nothing new is fine.
        if (Y.snapshotContainsUpdate(Y.snapshot(this.doc), update)) return;
        this.log.info({ projectId: this.projectId, memberId: conn.memberId, role: conn.role, reason: refusal.reason }, 'Yjs edit refused');
        conn.ws.close(refusal.code, refusal.reason);
        this.removeConnection(conn);
        return;
      }
      if (this.docBytes + update.length > MAX_DOC_BYTES) {
        this.log.warn({ projectId: this.projectId, memberId: conn.memberId, bytes: this.docBytes }, 'Yjs edit refused: the document is full');
        conn.ws.close(1009, `the shared document is full (${MAX_DOC_BYTES / 1024 / 1024} MB)`);
        this.removeConnection(conn);
        return;
      }
      const broken = this.guard?.admit(update);
      if (broken) {
        this.log.warn({ projectId: this.projectId, memberId: conn.memberId, field: broken }, 'Yjs edit with a wrongly typed value refused');
        conn.ws.close(1003, `invalid edit: ${broken}`.slice(0, 120));
        this.removeConnection(conn);
        return;
      }
      this.docBytes += update.length;
      // Not awaited: the next frames may join this update's group commit (order is kept).
      this.persistAndApply(update, conn.ws).catch((error: unknown) => {
        // An outage is logged once where it is noticed (db-health.ts), not once per refused edit.
        this.log[isDbUnavailable(error) ? 'debug' : 'error']({ err: error, projectId: this.projectId }, 'could not store a Yjs update; closing the connection so the client resends it');
        conn.ws.close(1011, 'could not store the update');
      });
      return;
    }
    throw new Error(`unknown sync message ${syncType}`);
  }

  /**
   * Appends the update to the log, then applies it (which relays it to everyone else): nothing is
   * relayed before it is durable. Group commit: updates arriving while a write is in flight go to
   * the log together in the next one, so one slow commit (an fsync, a round's save holding the
   * database) delays the edits behind it once, not once each.
   */
  private persistAndApply(update: Uint8Array, origin: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ update, origin, done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.writing ??= this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        const seqs = await this.repo.appendDocUpdates(this.projectId, batch.map((b) => b.update));
        this.lastSeq = Math.max(this.lastSeq, ...seqs);
      } catch (error) {
        for (const b of batch) b.done(error);
        continue;
      }
      for (const b of batch) {
        Y.applyUpdate(this.doc, b.update, b.origin);
        b.done();
      }
      this.sinceCompact += batch.length;
      if (this.sinceCompact >= COMPACT_EVERY) await this.compact().catch((error: unknown) => this.log.error({ err: error, projectId: this.projectId }, 'compaction failed'));
    }
    this.writing = null;
  }

  /** Why this connection may not change the document, or null when it may. */
  private refusal(conn: Connection): { code: number; reason: string } | null {
    if (conn.watch || conn.role === 'viewer') return YJS_CLOSE.read_only;
    if (this.meta.specLocked && conn.role !== 'owner') return YJS_CLOSE.spec_locked;
    return null;
  }

  private async compact(): Promise<void> {
    if (this.sinceCompact === 0) return;
    const state = Y.encodeStateAsUpdate(this.doc);
    await this.repo.compactDoc(this.projectId, state, this.lastSeq);
    this.sinceCompact = 0;
    this.docBytes = state.length;
  }

  private removeConnection(conn: Connection): void {
    if (!this.conns.delete(conn.ws)) return;
    awarenessProtocol.removeAwarenessStates(this.awareness, [...conn.clientIds], null);
  }

  private awarenessFrame(clients: number[]): Uint8Array {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients));
    return encoding.toUint8Array(encoder);
  }

  private broadcast(frame: Uint8Array, except: WebSocket | null): void {
    for (const ws of this.conns.keys()) if (ws !== except) this.send(ws, frame);
  }

  private send(ws: WebSocket, frame: Uint8Array): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(frame, (error) => {
      if (error) ws.terminate();
    });
  }

  /** Closes a member's connections (their access was revoked). */
  closeMember(memberId: string, code: number = YJS_CLOSE.revoked.code, reason: string = YJS_CLOSE.revoked.reason): void {
    for (const conn of this.conns.values()) if (conn.memberId === memberId) conn.ws.close(code, reason);
  }

  /** Closes every connection (server shutdown). */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const ws of this.conns.keys()) ws.close(code, reason);
  }

  /** Frees the room's timers and memory once it is flushed and nobody is connected. */
  destroy(): void {
    this.guard?.destroy();
    this.awareness.destroy();
    this.doc.destroy();
  }
}
