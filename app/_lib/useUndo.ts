'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import * as Y from 'yjs';
import { FEATURES_MAP, LAYERS_MAP, NOTES_TEXT, SPEC_MAP } from '@/server/protocol/spec-doc';

/** Edits closer together than this undo as one step (typing a number, a burst of clicks). */
export const UNDO_CAPTURE_MS = 500;

export interface Undo {
  canUndo: boolean;
  canRedo: boolean;
  undo: () => void;
  redo: () => void;
}

/**
 * A per-user undo history for the shared spec: the scalars, features, layers and notes.
 *
 * Only this browser's own edits are tracked. The spec-doc helpers and the notes editor write with
 * the default transaction origin (null), while the websocket provider applies everything that
 * arrives from the server with itself as the origin; so `trackedOrigins: {null}` takes local edits
 * and never remote ones. Undoing a change someone else has since overwritten leaves their value
 * (Yjs never undoes over remote map writes).
 */
export function createUndoManager(doc: Y.Doc): Y.UndoManager {
  return new Y.UndoManager([doc.getMap(SPEC_MAP), doc.getMap(FEATURES_MAP), doc.getMap(LAYERS_MAP), doc.getText(NOTES_TEXT)], {
    captureTimeout: UNDO_CAPTURE_MS,
    trackedOrigins: new Set([null]),
  });
}

export function useUndo(doc: Y.Doc | null): Undo {
  const manager = useRef<Y.UndoManager | null>(null);
  const [state, setState] = useState({ canUndo: false, canRedo: false });

  useEffect(() => {
    if (!doc) return;
    const um = createUndoManager(doc);
    manager.current = um;
    const sync = () =>
      setState((prev) => (prev.canUndo === um.canUndo() && prev.canRedo === um.canRedo() ? prev : { canUndo: um.canUndo(), canRedo: um.canRedo() }));
    um.on('stack-item-added', sync);
    um.on('stack-item-popped', sync);
    um.on('stack-cleared', sync);
    sync();
    return () => {
      um.off('stack-item-added', sync);
      um.off('stack-item-popped', sync);
      um.off('stack-cleared', sync);
      um.destroy();
      if (manager.current === um) manager.current = null;
      setState({ canUndo: false, canRedo: false });
    };
  }, [doc]);

  const undo = useCallback(() => {
    manager.current?.undo();
  }, []);
  const redo = useCallback(() => {
    manager.current?.redo();
  }, []);
  return { ...state, undo, redo };
}
