'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import type { Awareness } from 'y-protocols/awareness';
import { YJS_CLOSE, roomAwarenessSchema, type RoomAwareness } from '@/server/protocol/messages';
import { api, type Ticket } from './api';
import { colorFor, isPresenceState, type Peer, type PresenceState } from './presence';

export type CollabStatus = 'connecting' | 'connected' | 'disconnected';

export interface Collab {
  /** The shared document; null until the connection is set up (first client render). */
  doc: Y.Doc | null;
  status: CollabStatus;
  /** True once the document has synced with the server at least once. */
  synced: boolean;
  peers: Peer[];
  /** Publishes which field this browser is editing (null when none). */
  setEditing: (path: string | null) => void;
  /** The room's settings as the server announces them (spec lock, members revision); null until known. */
  room: RoomAwareness | null;
}

export interface CollabOptions {
  /** Watch only (the projector): a read-only connection that publishes no presence. */
  watch?: boolean;
  /**
   * The server changed this member's access: 'role' (fetch a new ticket, it carries the new role),
   * 'removed' by the owner, 'left' the project, or the project was 'deleted'. After the last three
   * the connection stays closed.
   */
  onAccessChanged?: (change: AccessChange) => void;
}

export type AccessChange = 'role' | 'removed' | 'left' | 'deleted';

/** Close codes that end this member's access for good, and what they mean. */
const ACCESS_ENDED: Record<number, AccessChange> = {
  [YJS_CLOSE.revoked.code]: 'removed',
  [YJS_CLOSE.left.code]: 'left',
  [YJS_CLOSE.project_deleted.code]: 'deleted',
};

/** Tickets live two minutes; refresh well before that so reconnects always carry a valid one. */
const TICKET_REFRESH_MS = 60_000;

/** The awareness instance that goes with each live document (for editors that publish more than `editing`). */
const awarenessByDoc = new WeakMap<Y.Doc, Awareness>();

/** The awareness of a document opened by useCollab, or null (not connected, or already closed). */
export function awarenessOf(doc: Y.Doc | null): Awareness | null {
  return doc ? (awarenessByDoc.get(doc) ?? null) : null;
}

/** What the peer list shows; other awareness fields (a caret in the notes) change far more often. */
function peersKey(list: Peer[]): string {
  return JSON.stringify(list.map((p) => [p.clientId, p.isSelf, p.editing, p.user]));
}

function wsOrigin(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}`;
}

/** The server's announced room settings among the awareness states, or null. */
function readRoom(awareness: Awareness): RoomAwareness | null {
  for (const state of awareness.getStates().values()) {
    const parsed = roomAwarenessSchema.safeParse(state);
    if (parsed.success) return parsed.data.room;
  }
  return null;
}

/** The project's shared Yjs document over an authenticated websocket, with presence. */
export function useCollab(slug: string, ticket: Ticket, options: CollabOptions = {}): Collab {
  const watch = options.watch === true;
  const onAccessChanged = useRef(options.onAccessChanged);
  onAccessChanged.current = options.onAccessChanged;
  const [doc, setDoc] = useState<Y.Doc | null>(null);
  const [room, setRoom] = useState<RoomAwareness | null>(null);
  // Bumped when the server refused an edit: the local copy holds it, so start from a fresh one.
  const [generation, setGeneration] = useState(0);
  const [status, setStatus] = useState<CollabStatus>('connecting');
  const [synced, setSynced] = useState(false);
  const [peers, setPeers] = useState<Peer[]>([]);
  const providerRef = useRef<WebsocketProvider | null>(null);
  const firstTicket = useRef(ticket.ticket);
  const { id: memberId, name, role } = ticket.member;

  useEffect(() => {
    const ydoc = new Y.Doc();
    const params = (ticket: string): Record<string, string> => (watch ? { ticket, mode: 'watch' } : { ticket });
    const provider = new WebsocketProvider(`${wsOrigin()}/yjs`, slug, ydoc, { params: params(firstTicket.current) });
    const awareness = provider.awareness;
    // The projector is nobody: it shows who is online without appearing among them.
    awareness.setLocalState(watch ? null : { user: { name, color: colorFor(memberId), memberId, role }, editing: null, notesCursor: null });
    awarenessByDoc.set(ydoc, awareness);

    let lastPeers = '';
    let lastRoom = '';
    let lastMembersRev: number | null = null;
    const readPeers = () => {
      const announced = readRoom(awareness);
      const roomKey = JSON.stringify(announced);
      if (roomKey !== lastRoom) {
        // The owner changed members (maybe renamed this one): a fresh ticket carries our name.
        const rev = announced?.membersRev ?? null;
        const membersChanged = lastMembersRev !== null && rev !== null && rev !== lastMembersRev;
        if (rev !== null) lastMembersRev = rev;
        lastRoom = roomKey;
        setRoom(announced);
        if (membersChanged && !watch) void refreshTicket();
      }
      const list: Peer[] = [];
      awareness.getStates().forEach((state, clientId) => {
        if (isPresenceState(state)) list.push({ ...state, editing: state.editing ?? null, clientId, isSelf: clientId === ydoc.clientID });
      });
      // A moving caret in the notes changes awareness on every keystroke: re-render the
      // workspace only when something the peer list shows changed (NotesEditor reads carets itself).
      const key = peersKey(list);
      if (key === lastPeers) return;
      lastPeers = key;
      setPeers(list);
    };

    let disposed = false;
    const refreshTicket = async () => {
      try {
        const fresh = await api.ticket(slug);
        firstTicket.current = fresh.ticket;
        if (disposed) return;
        provider.params = params(fresh.ticket);
        // Renamed by the owner: everyone's online list shows the new name from now on.
        const user = (awareness.getLocalState() as PresenceState | null)?.user;
        if (user && user.name !== fresh.member.name) awareness.setLocalStateField('user', { ...user, name: fresh.member.name });
      } catch {
        // keep the old ticket; the next refresh or reconnect tries again
      }
    };
    const timer = setInterval(() => void refreshTicket(), TICKET_REFRESH_MS);
    const onStatus = ({ status: s }: { status: CollabStatus }) => setStatus(s);
    const onSync = (isSynced: boolean) => {
      if (isSynced) setSynced(true);
    };
    // A dropped connection may come back after the ticket expired (laptop asleep): get a new one.
    const onClose = (event: { code?: number } | null) => {
      const code = event?.code;
      if (code === YJS_CLOSE.read_only.code || code === YJS_CLOSE.spec_locked.code) {
        // The server refused an edit and kept its document: resync from scratch, dropping ours.
        provider.disconnect();
        setGeneration((g) => g + 1);
        return;
      }
      const ended = code === undefined ? undefined : ACCESS_ENDED[code];
      if (ended) {
        // No reconnecting with a ticket that no longer opens anything: the gate takes over.
        provider.disconnect();
        onAccessChanged.current?.(ended);
        return;
      }
      if (code === YJS_CLOSE.role_changed.code) onAccessChanged.current?.('role');
      void refreshTicket();
    };
    provider.on('status', onStatus);
    provider.on('sync', onSync);
    provider.on('connection-close', onClose);
    awareness.on('change', readPeers);

    providerRef.current = provider;
    setDoc(ydoc);
    setSynced(false);
    setStatus(provider.wsconnected ? 'connected' : 'connecting');
    readPeers();

    return () => {
      disposed = true;
      clearInterval(timer);
      awareness.off('change', readPeers);
      provider.off('status', onStatus);
      provider.off('sync', onSync);
      provider.off('connection-close', onClose);
      awareness.setLocalState(null);
      awarenessByDoc.delete(ydoc);
      provider.destroy();
      ydoc.destroy();
      if (providerRef.current === provider) providerRef.current = null;
    };
  }, [slug, memberId, name, role, watch, generation]);

  const setEditing = useCallback((path: string | null) => {
    const awareness = providerRef.current?.awareness;
    const local = awareness?.getLocalState();
    if (!awareness || !local || local.editing === path) return;
    awareness.setLocalStateField('editing', path);
  }, []);

  return { doc, status, synced, peers, setEditing, room };
}
