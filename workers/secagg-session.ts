import type { SecAggRevealRequestMessage, SecAggRosterMessage } from '../server/protocol';
import { applyMasks, contributionVector } from './ml/secagg';
import { deriveSeed, generateRoundKeys, type RoundKeys } from './secagg-keys';

/** What the client trained this round, kept until the roster arrives (DP noise, if any, already added). */
export interface SecAggContribution {
  delta: Float32Array;
  samples: number;
  computeMs: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
}

/**
 * A client's side of one secure aggregation round attempt: its ephemeral key pair, its trained
 * contribution, and, once the roster is in, the seeds it shares with every other member. It masks
 * the contribution for the roster and reveals a seed only for peers the server reports dropped,
 * at most once, and never in a way that leaves fewer than two summed updates.
 */
export class SecAggClientRound {
  private seeds: Map<string, Uint8Array> | null = null;
  private roster: string[] = [];
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

  /** The masked vector (little-endian u32 bytes) for this roster; throws when the roster is not one this client can trust. */
  async mask(message: SecAggRosterMessage): Promise<Uint8Array> {
    if (this.seeds) throw new Error('already masked for a roster in this round');
    const ids = message.members.map((m) => m.clientId);
    if (new Set(ids).size !== ids.length) throw new Error('the roster names a client twice');
    const mine = message.members.find((m) => m.clientId === this.self);
    if (!mine || !sameBytes(toBytes(mine.publicKey), this.keys.publicKey)) throw new Error('the roster does not carry this client\'s public key');
    if (ids.length < 2) throw new Error('a roster of one would reveal this update');
    const seeds = new Map<string, Uint8Array>();
    for (const member of message.members) {
      if (member.clientId === this.self) continue;
      seeds.set(member.clientId, await deriveSeed(this.keys.privateKey, toBytes(member.publicKey), { runId: this.runId, round: this.round, session: this.session, self: this.self, peer: member.clientId }));
    }
    this.seeds = seeds;
    this.roster = ids;
    const { delta, samples, trainLoss, trainAccuracy } = this.contribution;
    const masked = await applyMasks(contributionVector(delta, samples, trainLoss, trainAccuracy, message.scaleBits), this.self, seeds);
    const bytes = new Uint8Array(masked.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < masked.length; i++) view.setUint32(i * 4, masked[i]!, true);
    return bytes;
  }

  /** The seeds shared with the dropped peers; throws when revealing them could expose a summed update. */
  reveal(message: SecAggRevealRequestMessage): { clientId: string; seed: Uint8Array }[] {
    if (!this.seeds) throw new Error('no masks were made in this round');
    if (this.revealed) throw new Error('seeds were already revealed in this round');
    const dropped = new Set(message.dropped);
    if (dropped.has(this.self)) throw new Error('this client is reported dropped, yet asked to reveal');
    for (const id of dropped) if (!this.seeds.has(id)) throw new Error(`${id} is not on this round's roster`);
    const survivors = this.roster.filter((id) => !dropped.has(id));
    if (survivors.length < 2) throw new Error('revealing would leave a sum of one update');
    this.revealed = true;
    return [...dropped].map((clientId) => ({ clientId, seed: this.seeds!.get(clientId)! }));
  }
}

function toBytes(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
