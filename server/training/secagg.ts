import { SECAGG_EXTRAS, SEED_BYTES, addInto, readSum, removeDanglingMask, scaleBitsFor } from '../../workers/ml/secagg';
import { PUBLIC_KEY_BYTES } from '../../workers/secagg-keys';

/**
 * One attempt at a secure aggregation round, server side, as pure state (the coordinator drives
 * it, the room carries out what it decides). Steps:
 *
 *   keys      participants send an ephemeral public key and their sample count once trained;
 *   masking   everyone with a key gets the roster (all keys) and the round's fixed-point scale,
 *             and sends its masked vector, which is summed at once modulo 2³²;
 *   revealing only if someone on the roster never delivered (left or late): the clients whose
 *             vector was summed reveal the seeds they share with those dropped clients, and only
 *             those, so their dangling masks can be removed (recovery);
 *   unmasking the masks are gone: the sum is read back and divided by the summed samples.
 *
 * The server never holds an individual vector in the clear: each arriving vector is added into
 * the running sum and dropped. Threat model: an honest-but-curious server. A server that lied
 * about who dropped could ask for a seed of a client whose vector it summed; the full protocol's
 * second (self) mask with secret-shared seeds would stop that and is not implemented.
 */
export type SecAggStep = 'keys' | 'masking' | 'revealing' | 'unmasking';

export interface RosterEntry {
  clientId: string;
  publicKey: Uint8Array;
}

/** Everything needed to open the masked sum (async: mask expansion uses WebCrypto). */
export interface UnmaskJob {
  sum: Uint32Array;
  scaleBits: number;
  totalSamples: number;
  /** One per (survivor, dropped client) pair: the seed the survivor revealed. */
  dangling: { survivor: string; dropped: string; seed: Uint8Array }[];
}

export class SecAggRound {
  step: SecAggStep = 'keys';
  private readonly keys = new Map<string, { publicKey: Uint8Array; samples: number }>();
  private roster: string[] = [];
  private scale = 0;
  private readonly sum: Uint32Array;
  private readonly summed = new Map<string, number>();
  private droppedIds: string[] = [];
  private readonly reveals = new Map<string, Map<string, Uint8Array>>();

  constructor(
    readonly session: string,
    readonly participants: readonly string[],
    /** Parameters of the model; the masked vector carries SECAGG_EXTRAS more. */
    paramCount: number,
  ) {
    this.sum = new Uint32Array(paramCount + SECAGG_EXTRAS);
  }

  get vectorLength(): number {
    return this.sum.length;
  }
  get keyCount(): number {
    return this.keys.size;
  }
  get summedCount(): number {
    return this.summed.size;
  }
  get scaleBits(): number {
    return this.scale;
  }
  get dropped(): readonly string[] {
    return this.droppedIds;
  }
  /** Clients whose masked vector is in the sum. */
  get survivors(): string[] {
    return [...this.summed.keys()];
  }

  /** Records a participant's public key; returns why it is refused, or null. */
  addKey(clientId: string, publicKey: Uint8Array, samples: number): string | null {
    if (this.step !== 'keys') return 'The key exchange of this round is over.';
    if (!this.participants.includes(clientId)) return 'This client is not a participant of the round.';
    if (this.keys.has(clientId)) return 'This client already sent its key.';
    if (publicKey.byteLength !== PUBLIC_KEY_BYTES || publicKey[0] !== 4) return `A public key is an uncompressed P-256 point of ${PUBLIC_KEY_BYTES} bytes.`;
    for (const other of this.keys.values()) if (equalBytes(other.publicKey, publicKey)) return 'That public key is already taken in this round.';
    this.keys.set(clientId, { publicKey: publicKey.slice(), samples });
    return null;
  }

  /** A client left before the roster went out: it gets no place on it. */
  forgetKey(clientId: string): boolean {
    return this.step === 'keys' && this.keys.delete(clientId);
  }

  /** Ends the key exchange: the roster (sorted by id) and the round's scale for the declared samples. */
  closeKeys(): { members: RosterEntry[]; scaleBits: number } {
    if (this.step !== 'keys') throw new Error('keys already closed');
    this.roster = [...this.keys.keys()].sort();
    const total = [...this.keys.values()].reduce((s, k) => s + k.samples, 0);
    this.scale = scaleBitsFor(Math.max(1, total), Math.max(1, this.roster.length));
    this.step = 'masking';
    return { members: this.roster.map((clientId) => ({ clientId, publicKey: this.keys.get(clientId)!.publicKey })), scaleBits: this.scale };
  }

  get rosterIds(): readonly string[] {
    return this.roster;
  }

  /** Adds a masked vector into the sum; returns why it is refused, or null. */
  addMasked(clientId: string, samples: number, masked: Uint32Array): string | null {
    if (this.step !== 'masking') return 'Masked updates are not being collected now.';
    if (!this.roster.includes(clientId)) return 'This client is not on the round\'s roster.';
    if (this.summed.has(clientId)) return 'This client\'s masked update is already summed.';
    const declared = this.keys.get(clientId)!.samples;
    if (samples !== declared) return `The key exchange declared ${declared} samples, the update ${samples}.`;
    if (masked.length !== this.sum.length) return `Expected ${this.sum.length} masked values, got ${masked.length}.`;
    addInto(this.sum, masked);
    this.summed.set(clientId, samples);
    return null;
  }

  /** Ends collection: roster members not summed are dropped. 'revealing' when masks dangle, else 'unmasking'. */
  closeMasking(): SecAggStep {
    if (this.step !== 'masking') throw new Error('not collecting masked updates');
    this.droppedIds = this.roster.filter((id) => !this.summed.has(id));
    this.step = this.droppedIds.length > 0 ? 'revealing' : 'unmasking';
    return this.step;
  }

  /** A survivor's seeds for exactly the dropped clients; returns why they are refused, or null. */
  addReveal(clientId: string, seeds: { clientId: string; seed: Uint8Array }[]): string | null {
    if (this.step !== 'revealing') return 'No seeds are being collected now.';
    if (!this.summed.has(clientId)) return 'Only clients whose update was summed reveal seeds.';
    if (this.reveals.has(clientId)) return 'This client already revealed its seeds.';
    const byPeer = new Map<string, Uint8Array>();
    for (const { clientId: peer, seed } of seeds) {
      if (!this.droppedIds.includes(peer)) return `Seeds are revealed only for dropped clients; ${peer} is not one.`;
      if (seed.byteLength !== SEED_BYTES) return `A seed has ${SEED_BYTES} bytes.`;
      byPeer.set(peer, seed.slice());
    }
    if (byPeer.size !== this.droppedIds.length) return `Expected a seed for each of the ${this.droppedIds.length} dropped clients.`;
    this.reveals.set(clientId, byPeer);
    return null;
  }

  get revealCount(): number {
    return this.reveals.size;
  }

  /** Whether every survivor revealed its seeds. */
  revealsComplete(): boolean {
    return this.step === 'revealing' && this.reveals.size === this.summed.size;
  }

  /** The sum with what it takes to open it; the round's state is spent afterwards. */
  unmaskJob(): UnmaskJob {
    if (this.step === 'revealing' && !this.revealsComplete()) throw new Error('seeds are missing');
    if (this.step !== 'revealing' && this.step !== 'unmasking') throw new Error('nothing to unmask yet');
    this.step = 'unmasking';
    const dangling: UnmaskJob['dangling'] = [];
    for (const [survivor, seeds] of this.reveals) for (const [dropped, seed] of seeds) dangling.push({ survivor, dropped, seed });
    const totalSamples = [...this.summed.values()].reduce((s, n) => s + n, 0);
    return { sum: this.sum, scaleBits: this.scale, totalSamples, dangling };
  }
}

/** Opens a masked sum: removes the dangling masks, then reads the sample-weighted mean delta and statistics. */
export async function unmask(job: UnmaskJob): Promise<ReturnType<typeof readSum>> {
  const sum = job.sum.slice();
  for (const { survivor, dropped, seed } of job.dangling) await removeDanglingMask(sum, survivor, dropped, seed);
  return readSum(sum, job.scaleBits, job.totalSamples);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
