/**
 * The key agreement behind secure aggregation's pairwise masks, with WebCrypto only (browsers
 * in a secure context, Web Workers, Node ≥ 20): each client makes an ephemeral ECDH P-256 key
 * pair per round, and each pair of clients turns ECDH(own private, peer public) into a 32-byte
 * mask seed with HKDF-SHA-256 bound to the run, round, round session and the two client ids.
 * The seed, not the ECDH secret, is what a survivor reveals for a dropped peer: it opens that one
 * pair's mask for that one round and nothing else.
 */
import { SEED_BYTES } from './ml/secagg';

/** An uncompressed P-256 point: 0x04 ‖ x ‖ y. */
export const PUBLIC_KEY_BYTES = 65;
const SALT = new TextEncoder().encode('cotrain secure aggregation v1');

/** Whether this context can run secure aggregation (WebCrypto needs HTTPS or localhost in browsers). */
export function secureAggregationSupported(): boolean {
  return typeof globalThis.crypto?.subtle?.deriveBits === 'function';
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Secure aggregation needs WebCrypto (crypto.subtle), which browsers only offer over HTTPS or on localhost.');
  return s;
}

export interface RoundKeys {
  privateKey: CryptoKey;
  /** Raw public key to send to the server. */
  publicKey: Uint8Array;
}

/** A fresh ephemeral ECDH key pair; the private key cannot be exported. */
export async function generateRoundKeys(): Promise<RoundKeys> {
  const pair = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/** What a seed is bound to: the same for both peers (ids in sorted order). */
export interface SeedContext {
  runId: string;
  round: number;
  session: string;
  self: string;
  peer: string;
}

/** HKDF info string: both peers build the same one. */
export function seedInfo({ runId, round, session, self, peer }: SeedContext): Uint8Array {
  const [lo, hi] = self < peer ? [self, peer] : [peer, self];
  return new TextEncoder().encode(JSON.stringify(['cotrain-secagg-seed', runId, round, session, lo, hi]));
}

/** The mask seed this client shares with `peer`: HKDF-SHA-256(ECDH(own private, peer public)). Throws on a key that is not a P-256 point. */
export async function deriveSeed(privateKey: CryptoKey, peerPublicKey: Uint8Array, context: SeedContext): Promise<Uint8Array> {
  if (peerPublicKey.byteLength !== PUBLIC_KEY_BYTES) throw new Error(`a P-256 public key has ${PUBLIC_KEY_BYTES} bytes, not ${peerPublicKey.byteLength}`);
  const s = subtle();
  const peer = await s.importKey('raw', peerPublicKey as Uint8Array<ArrayBuffer>, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const shared = await s.deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  const ikm = await s.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const seed = await s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: SALT, info: seedInfo(context) as Uint8Array<ArrayBuffer> }, ikm, SEED_BYTES * 8);
  return new Uint8Array(seed);
}
