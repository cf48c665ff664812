import { SECAGG_EXTRAS, SEED_BYTES, addInto, expandMask, readSum, removeDanglingMask, scaleBitsFor, subtractInto } from '../../workers/ml/secagg';
import { SHARE_BYTES, combineShares, shareFromBytes, shareThreshold, type Share } from '../../workers/ml/shamir';
import { PUBLIC_KEY_BYTES, sealedShareBytes } from '../../workers/secagg-keys';

/**
 * One attempt at a secure aggregation round, server side, as pure state (the coordinator drives
 * it, the room carries out what it decides). Steps:
 *
 *   keys      participants send an ephemeral public key and their sample count once trained;
 *   masking   everyone with a key gets the roster (all keys) and the round's fixed-point scale,
 *             and sends its masked vector (self-mask and pairwise masks), which is summed at once
 *             modulo 2³², with sealed shares of its self-mask seed for the other members;
 *   revealing the clients whose vector was summed (survivors) get the shares addressed to them and
 *             answer with their shares of every survivor's self-mask seed and, for roster members
 *             that never delivered (dropped), the pairwise seeds they share with them;
 *   unmasking each survivor's self-mask seed is rebuilt from t shares and its mask removed, the
 *             dangling pairwise masks too; the sum is read back and divided by the summed samples.
 *
 * The server never holds an individual vector in the clear: each arriving vector is added into
 * the running sum and dropped. Each honest client reveals, per member, a self-mask share (member
 * survived) or a pairwise seed (member dropped), never both, so even a server that lies about
 * who dropped cannot remove both masks of one vector. The shares travel sealed (AES-GCM under
 * keys only the pair can derive); the server only relays them.
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
  /** Every survivor's self-mask seed, as the shares the survivors revealed; `threshold` of them rebuild it. */
  selfMasks: { clientId: string; shares: Share[] }[];
  threshold: number;
}

/** Bytes of one sealed self-mask share. */
const SHARE_BOX_BYTES = sealedShareBytes(SHARE_BYTES);

export class SecAggRound {
  step: SecAggStep = 'keys';
  private readonly keys = new Map<string, { publicKey: Uint8Array; samples: number }>();
  private roster: string[] = [];
  private scale = 0;
  private readonly sum: Uint32Array;
  private readonly summed = new Map<string, number>();
  private droppedIds: string[] = [];
  private readonly reveals = new Map<string, Map<string, Uint8Array>>();
  /** Sealed shares by recipient, then sender. */
  private readonly boxes = new Map<string, Map<string, Uint8Array>>();
  /** Revealed self-mask shares by the seed's owner. */
  private readonly selfShares = new Map<string, Share[]>();

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

  /** Shares of a self-mask seed needed to rebuild it: a strict majority of the roster. */
  get threshold(): number {
    return shareThreshold(this.roster.length);
  }

  /** Adds a masked vector into the sum and keeps its sealed shares for their recipients; returns why it is refused, or null. */
  addMasked(clientId: string, samples: number, masked: Uint32Array, shares: { clientId: string; box: Uint8Array }[]): string | null {
    if (this.step !== 'masking') return 'Masked updates are not being collected now.';
    if (!this.roster.includes(clientId)) return 'This client is not on the round\'s roster.';
    if (this.summed.has(clientId)) return 'This client\'s masked update is already summed.';
    const declared = this.keys.get(clientId)!.samples;
    if (samples !== declared) return `The key exchange declared ${declared} samples, the update ${samples}.`;
    if (masked.length !== this.sum.length) return `Expected ${this.sum.length} masked values, got ${masked.length}.`;
    const sealed = new Map<string, Uint8Array>();
    for (const { clientId: to, box } of shares) {
      if (to === clientId || !this.roster.includes(to)) return `Self-mask shares go to the other roster members; ${to} is not one.`;
      if (sealed.has(to)) return `Two self-mask shares for ${to}.`;
      if (box.byteLength !== SHARE_BOX_BYTES) return `A sealed self-mask share has ${SHARE_BOX_BYTES} bytes.`;
      sealed.set(to, box.slice());
    }
    if (sealed.size !== this.roster.length - 1) return `Expected a self-mask share for each of the ${this.roster.length - 1} other roster members.`;
    addInto(this.sum, masked);
    this.summed.set(clientId, samples);
    for (const [to, box] of sealed) {
      let inbox = this.boxes.get(to);
      if (!inbox) this.boxes.set(to, (inbox = new Map()));
      inbox.set(clientId, box);
    }
    return null;
  }

  /** Ends collection: roster members not summed are dropped; the survivors are asked to reveal. */
  closeMasking(): SecAggStep {
    if (this.step !== 'masking') throw new Error('not collecting masked updates');
    this.droppedIds = this.roster.filter((id) => !this.summed.has(id));
    this.step = 'revealing';
    return this.step;
  }

  /** The sealed shares for a survivor to open: those the other survivors sent it. */
  sharesFor(survivor: string): { clientId: string; box: Uint8Array }[] {
    return [...(this.boxes.get(survivor) ?? [])].filter(([from]) => this.summed.has(from)).map(([clientId, box]) => ({ clientId, box }));
  }

  /**
   * A survivor's reveal: its share of every survivor's self-mask seed (its own included) and the
   * seeds it shares with exactly the dropped clients; returns why it is refused, or null.
   */
  addReveal(clientId: string, seeds: { clientId: string; seed: Uint8Array }[], shares: { clientId: string; share: Uint8Array }[]): string | null {
    if (this.step !== 'revealing') return 'Nothing is being revealed now.';
    if (!this.summed.has(clientId)) return 'Only clients whose update was summed reveal.';
    if (this.reveals.has(clientId)) return 'This client already revealed.';
    const byPeer = new Map<string, Uint8Array>();
    for (const { clientId: peer, seed } of seeds) {
      if (!this.droppedIds.includes(peer)) return `Seeds are revealed only for dropped clients; ${peer} is not one.`;
      if (seed.byteLength !== SEED_BYTES) return `A seed has ${SEED_BYTES} bytes.`;
      byPeer.set(peer, seed.slice());
    }
    if (byPeer.size !== this.droppedIds.length) return `Expected a seed for each of the ${this.droppedIds.length} dropped clients.`;
    const byOwner = new Map<string, Uint32Array>();
    for (const { clientId: owner, share } of shares) {
      if (!this.summed.has(owner)) return `Self-mask shares are revealed only for survivors; ${owner} is not one.`;
      const y = shareFromBytes(share);
      if (!y) return `A self-mask share is ${SHARE_BYTES} bytes of field elements.`;
      byOwner.set(owner, y);
    }
    if (byOwner.size !== this.summed.size) return `Expected a self-mask share for each of the ${this.summed.size} survivors.`;
    this.reveals.set(clientId, byPeer);
    const x = this.roster.indexOf(clientId) + 1;
    for (const [owner, y] of byOwner) {
      let list = this.selfShares.get(owner);
      if (!list) this.selfShares.set(owner, (list = []));
      list.push({ x, y });
    }
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
    if (this.step !== 'revealing' || !this.revealsComplete()) throw new Error('reveals are missing');
    this.step = 'unmasking';
    const dangling: UnmaskJob['dangling'] = [];
    for (const [survivor, seeds] of this.reveals) for (const [dropped, seed] of seeds) dangling.push({ survivor, dropped, seed });
    const selfMasks = [...this.summed.keys()].map((clientId) => ({ clientId, shares: this.selfShares.get(clientId) ?? [] }));
    const totalSamples = [...this.summed.values()].reduce((s, n) => s + n, 0);
    return { sum: this.sum, scaleBits: this.scale, totalSamples, dangling, selfMasks, threshold: this.threshold };
  }
}

/**
 * Opens a masked sum: rebuilds each survivor's self-mask seed from its shares and removes that
 * mask, removes the dangling pairwise masks, then reads the sample-weighted mean delta and
 * statistics. Throws when shares do not rebuild a seed (a client sent a malformed one).
 */
export async function unmask(job: UnmaskJob): Promise<ReturnType<typeof readSum>> {
  const sum = job.sum.slice();
  for (const { shares } of job.selfMasks) subtractInto(sum, await expandMask(combineShares(shares, job.threshold), sum.length));
  for (const { survivor, dropped, seed } of job.dangling) await removeDanglingMask(sum, survivor, dropped, seed);
  return readSum(sum, job.scaleBits, job.totalSamples);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
