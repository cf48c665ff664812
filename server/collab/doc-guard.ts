import * as Y from 'yjs';
import { docTypeProblems } from '../protocol/spec-doc';

/**
 * Checks Yjs updates before the room stores them: each update is first applied to a shadow copy
 * of the document, and refused if it introduces a value of the wrong type (docTypeProblems): an
 * unknown field or root, an enum value that does not exist, a number that is not one. A valid
 * update costs one extra apply and a scan of the spec's few fields.
 */
export class DocGuard {
  private shadow = new Y.Doc({ gc: true });
  private known = new Set<string>();

  /** `current` gives the document's full state as the room will have it (stored + pending updates). */
  constructor(private readonly current: () => Uint8Array[]) {
    this.rebuild();
  }

  /** Null if the update may be stored, else the first field it would break. */
  admit(update: Uint8Array): string | null {
    Y.applyUpdate(this.shadow, update);
    const problems = docTypeProblems(this.shadow);
    const introduced = problems.find((p) => !this.known.has(p));
    if (introduced !== undefined) {
      // The shadow now holds the refused update: start again from what the room really has.
      this.rebuild();
      return introduced;
    }
    this.known = new Set(problems);
    return null;
  }

  destroy(): void {
    this.shadow.destroy();
  }

  private rebuild(): void {
    this.shadow.destroy();
    this.shadow = new Y.Doc({ gc: true });
    for (const update of this.current()) Y.applyUpdate(this.shadow, update);
    this.known = new Set(docTypeProblems(this.shadow));
  }
}
