'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import type { Awareness } from 'y-protocols/awareness';
import { api, type Ticket } from './api';
import { colorFor, isPresenceState, type Peer } from './presence';

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
}

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

/** The project's shared Yjs document over an authenticated websocket, with presence. */
export function useCollab(slug: string, ticket: Ticket): Collab {
  const [doc, setDoc] = useState<Y.Doc | null>(null);
  const [status, setStatus] = useState<CollabStatus>('connecting');
  const [synced, setSynced] = useState(false);
  const [peers, setPeers] = useState<Peer[]>([]);
  const providerRef = useRef<WebsocketProvider | null>(null);
  const firstTicket = useRef(ticket.ticket);
  const { id: memberId, name, role } = ticket.member;

  useEffect(() => {
    const ydoc = new Y.Doc();
    const provider = new WebsocketProvider(`${wsOrigin()}/yjs`, slug, ydoc, { params: { ticket: firstTicket.current } });
    const awareness = provider.awareness;
    awareness.setLocalState({ user: { name, color: colorFor(memberId), memberId, role }, editing: null, notesCursor: null });
    awarenessByDoc.set(ydoc, awareness);

    let lastPeers = '';
    const readPeers = () => {
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
        if (!disposed) provider.params = { ticket: fresh.ticket };
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
    const onClose = () => void refreshTicket();
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
  }, [slug, memberId, name, role]);

  const setEditing = useCallback((path: string | null) => {
    const awareness = providerRef.current?.awareness;
    const local = awareness?.getLocalState();
    if (!awareness || !local || local.editing === path) return;
    awareness.setLocalStateField('editing', path);
  }, []);

  return { doc, status, synced, peers, setEditing };
}
