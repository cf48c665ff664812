import type * as Y from 'yjs';

/** Pure text helpers of the shared notes editor (app/_components/NotesEditor.tsx). */

export type Delta = Y.YTextEvent['delta'];

/** The one replaced range that turns `before` into `after` (common prefix and suffix kept), or null if equal. */
export function textChange(before: string, after: string): { index: number; remove: number; insert: string } | null {
  if (before === after) return null;
  const max = Math.min(before.length, after.length);
  let start = 0;
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  // Never split a surrogate pair: Yjs would store the halves as replacement characters.
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) start--;
  if (end > 0 && isLowSurrogate(before.charCodeAt(before.length - end))) end--;
  return { index: start, remove: before.length - start - end, insert: after.slice(start, after.length - end) };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Where `index` of the old text lands after a change given as a Yjs delta. Text inserted exactly
 * at the index goes before it when `stickRight` (the index moves along), after it otherwise.
 */
export function mapIndex(index: number, delta: Delta, stickRight: boolean): number {
  let oldPos = 0;
  let newPos = 0;
  for (const op of delta) {
    if (op.retain !== undefined) {
      if (index < oldPos + op.retain) return newPos + (index - oldPos);
      oldPos += op.retain;
      newPos += op.retain;
    } else if (op.insert !== undefined) {
      if (index === oldPos && !stickRight) return newPos;
      newPos += typeof op.insert === 'string' ? op.insert.length : 1;
    } else if (op.delete !== undefined) {
      if (index < oldPos + op.delete) return newPos;
      oldPos += op.delete;
    }
  }
  return newPos + (index - oldPos);
}

