import type { SecAggRevealRequestMessage, SecAggRosterMessage } from '../server/protocol';
import { addInto, applyMasks, contributionVector, expandMask, SEED_BYTES } from './ml/secagg';
import { shareThreshold, shareToBytes, splitSecret } from './ml/shamir';
import { derivePairSecrets, generateRoundKeys, openShare, sealShare, type PairSecrets, type RoundKeys, type SeedContext } from './secagg-keys';

/** What the client trained this round, kept until the roster arrives (DP noise, if any, already added). */
export interface SecAggContribution {
  delta: Float32Array;
  samples: number;
  computeMs: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
}

/** What a client sends once the roster is in: its masked vector and one sealed self-mask share per peer. */
export interface MaskedContribution {
  masked: Uint8Array;
  shares: { clientId: string; box: Uint8Array }[];
}

/** A survivor's answer to the reveal request: pairwise seeds for the dropped, self-mask shares for the survivors. */
export interface Reveal {
  seeds: { clientId: string; seed: Uint8Array }[];
  shares: { clientId: string; share: Uint8Array }[];
}

/**
 * A client's side of one secure aggregation round attempt (double masking, Bonawitz et al. 2017):
 * its ephemeral key pair, its trained contribution, a random self-mask seed b shared t-of-K among
 * the roster (Shamir), and, once the roster is in, the seed and share key it shares with every
 * other member. For the reveal it gives, per roster member, either its share of that member's b
 * (a survivor) or their pairwise seed (dropped) — never both, once per attempt, and never when
 * fewer than two summed updates would remain; so the server can remove the masks of the sum but
 * never open a single update, even by lying about who dropped out.
 */
export class SecAggClientRound {
  private pairs: Map<string, PairSecrets> | null = null;
  private roster: string[] = [];
  private selfSeed: Uint8Array | null = null;
  /** The share of its own self-mask seed this client keeps (revealed only while it survives). */
  private ownShare: Uint8Array | null = null;
  private revealed = false;

  private constructor(
    readonly runId: string,
    readonly round: number,
    readonly session: string,
    readonly self: string,
    private readonly keys: RoundKeys,
    private readonly contribution: SecAggContribution,
  ) {}

  static async start(at: { runId: string; round: number; session: string; self: string }, contribution: SecAggContribution): Promise<SecAggClientRound> {
    return new SecAggClientRound(at.runId, at.round, at.session, at.self, await generateRoundKeys(), contribution);
  }

  get publicKey(): Uint8Array {
    return this.keys.publicKey;
  }
  get samples(): number {
    return this.contribution.samples;
  }
  get computeMs(): number {
    return this.contribution.computeMs;
  }

  /** Whether a server message belongs to this attempt. */
  matches(message: { runId: string; round: number; session: string }): boolean {
    return message.runId === this.runId && message.round === this.round && message.session === this.session;
  }

  private context(peer: string): SeedContext {
    return { runId: this.runId, round: this.round, session: this.session, self: this.self, peer };
  }

  /** The masked vector (little-endian u32 bytes) and sealed shares for this roster; throws when the roster is not one this client can trust. */
  async mask(message: SecAggRosterMessage): Promise<MaskedContribution> {
    if (this.pairs) throw new Error('already masked for a roster in this round');
    const ids = message.members.map((m) => m.clientId);
    if (new Set(ids).size !== ids.length) throw new Error('the roster names a client twice');
    const mine = message.members.find((m) => m.clientId === this.self);
    if (!mine || !sameBytes(toBytes(mine.publicKey), this.keys.publicKey)) throw new Error('the roster does not carry this client\'s public key');
    if (ids.length < 2) throw new Error('a roster of one would reveal this update');
    const pairs = new Map<string, PairSecrets>();
    for (const member of message.members) {
      if (member.clientId === this.self) continue;
      pairs.set(member.clientId, await derivePairSecrets(this.keys.privateKey, toBytes(member.publicKey), this.context(member.clientId)));
    }
    this.pairs = pairs;
    this.roster = ids;

    // The self-mask: b, shared among the roster at points 1 … K (roster order).
    const selfSeed = globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
    this.selfSeed = selfSeed;
    const split = splitSecret(selfSeed, shareThreshold(ids.length), ids.map((_, i) => i + 1));
    const shares: MaskedContribution['shares'] = [];
    for (const [i, id] of ids.entries()) {
      const share = shareToBytes(split[i]!.y);
      if (id === this.self) this.ownShare = share;
      else shares.push({ clientId: id, box: await sealShare(pairs.get(id)!.shareKey, share, this.context(id)) });
    }

    const { delta, samples, trainLoss, trainAccuracy } = this.contribution;
    const encoded = contributionVector(delta, samples, trainLoss, trainAccuracy, message.scaleBits);
    addInto(encoded, await expandMask(selfSeed, encoded.length));
    const seeds = new Map([...pairs].map(([id, p]) => [id, p.seed]));
    const masked = await applyMasks(encoded, this.self, seeds);
    const bytes = new Uint8Array(masked.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < masked.length; i++) view.setUint32(i * 4, masked[i]!, true);
    return { masked: bytes, shares };
  }

  /**
   * Shares of the survivors' self-mask seeds (opened from the boxes the server relays) and the
   * seeds shared with the dropped; throws when the request could expose a single update.
   */
  async reveal(message: SecAggRevealRequestMessage): Promise<Reveal> {
    if (!this.pairs || !this.ownShare) throw new Error('no masks were made in this round');
    if (this.revealed) throw new Error('this round was already revealed');
    const survivors = new Set(message.survivors);
    const dropped = new Set(message.dropped);
    if (dropped.has(this.self) || !survivors.has(this.self)) throw new Error('this client is not reported as a survivor, yet asked to reveal');
    if (survivors.size !== message.survivors.length || dropped.size !== message.dropped.length) throw new Error('the request names a client twice');
    for (const id of [...survivors, ...dropped]) {
      if (!this.roster.includes(id)) throw new Error(`${id} is not on this round's roster`);
      if (survivors.has(id) && dropped.has(id)) throw new Error(`${id} is reported both surviving and dropped`);
    }
    if (survivors.size + dropped.size !== this.roster.length) throw new Error('the request does not account for the whole roster');
    if (survivors.size < 2) throw new Error('revealing would leave a sum of one update');
    const boxes = new Map<string, Uint8Array>();
    for (const { clientId, box } of message.shares) {
      if (!survivors.has(clientId) || clientId === this.self) throw new Error(`a share of ${clientId} is only opened for another survivor`);
      if (boxes.has(clientId)) throw new Error(`two shares from ${clientId}`);
      boxes.set(clientId, toBytes(box));
    }
    this.revealed = true;
    const shares: Reveal['shares'] = [{ clientId: this.self, share: this.ownShare }];
    for (const [clientId, box] of boxes) shares.push({ clientId, share: await openShare(this.pairs.get(clientId)!.shareKey, box, this.context(clientId)) });
    const seeds = [...dropped].map((clientId) => ({ clientId, seed: this.pairs!.get(clientId)!.seed }));
    return { seeds, shares };
  }
}

function toBytes(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
