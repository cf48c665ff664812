/**
 * The key agreement behind secure aggregation's pairwise masks, with WebCrypto only (browsers
 * in a secure context, Web Workers, Node ≥ 20): each client makes an ephemeral ECDH P-256 key
 * pair per round, and each pair of clients turns ECDH(own private, peer public) into a 32-byte
 * mask seed with HKDF-SHA-256 bound to the run, round, round session and the two client ids.
 * The seed, not the ECDH secret, is what a survivor reveals for a dropped peer: it opens that one
 * pair's mask for that one round and nothing else. A second key from the same agreement (another
 * HKDF label) encrypts the self-mask shares the pair exchanges through the server (AES-GCM).
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

/** HKDF info string: both peers build the same one (`label` separates the mask seed from the share key). */
export function seedInfo({ runId, round, session, self, peer }: SeedContext, label = 'cotrain-secagg-seed'): Uint8Array {
  const [lo, hi] = self < peer ? [self, peer] : [peer, self];
  return new TextEncoder().encode(JSON.stringify([label, runId, round, session, lo, hi]));
}

/** What a pair of clients shares: the mask seed, and an AES-GCM key for the self-mask shares they send each other through the server. */
export interface PairSecrets {
  seed: Uint8Array;
  shareKey: CryptoKey;
}

async function sharedSecret(privateKey: CryptoKey, peerPublicKey: Uint8Array): Promise<CryptoKey> {
  if (peerPublicKey.byteLength !== PUBLIC_KEY_BYTES) throw new Error(`a P-256 public key has ${PUBLIC_KEY_BYTES} bytes, not ${peerPublicKey.byteLength}`);
  const s = subtle();
  const peer = await s.importKey('raw', peerPublicKey as Uint8Array<ArrayBuffer>, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const shared = await s.deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  return s.importKey('raw', shared, 'HKDF', false, ['deriveBits', 'deriveKey']);
}

/** The mask seed this client shares with `peer`: HKDF-SHA-256(ECDH(own private, peer public)). Throws on a key that is not a P-256 point. */
export async function deriveSeed(privateKey: CryptoKey, peerPublicKey: Uint8Array, context: SeedContext): Promise<Uint8Array> {
  return (await derivePairSecrets(privateKey, peerPublicKey, context)).seed;
}

/** The mask seed and the share key, both from one ECDH with different HKDF labels. */
export async function derivePairSecrets(privateKey: CryptoKey, peerPublicKey: Uint8Array, context: SeedContext): Promise<PairSecrets> {
  const ikm = await sharedSecret(privateKey, peerPublicKey);
  const s = subtle();
  const seed = new Uint8Array(await s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: SALT, info: seedInfo(context) as Uint8Array<ArrayBuffer> }, ikm, SEED_BYTES * 8));
  const shareKey = await s.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: seedInfo(context, 'cotrain-secagg-share') as Uint8Array<ArrayBuffer> },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  return { seed, shareKey };
}

const IV_BYTES = 12;

/** Who sends a share to whom, bound into the ciphertext: a box cannot be replayed for another pair, round or direction. */
function shareAad(context: SeedContext): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(['cotrain-secagg-share-box', context.runId, context.round, context.session, context.self, context.peer]));
}

/** Encrypts a share for `context.peer` (from `context.self`): iv ‖ AES-GCM(share). */
export async function sealShare(key: CryptoKey, share: Uint8Array, context: SeedContext): Promise<Uint8Array> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: shareAad(context) as Uint8Array<ArrayBuffer> }, key, share as Uint8Array<ArrayBuffer>));
  const box = new Uint8Array(IV_BYTES + sealed.byteLength);
  box.set(iv);
  box.set(sealed, IV_BYTES);
  return box;
}

/** Decrypts a share `context.peer` sealed for `context.self`; throws when the box was altered or is not for this pair and round. */
export async function openShare(key: CryptoKey, box: Uint8Array, context: SeedContext): Promise<Uint8Array> {
  if (box.byteLength <= IV_BYTES + 16) throw new Error('a share box is too short');
  const aad = shareAad({ ...context, self: context.peer, peer: context.self });
  const plain = await subtle().decrypt({ name: 'AES-GCM', iv: box.slice(0, IV_BYTES), additionalData: aad as Uint8Array<ArrayBuffer> }, key, box.slice(IV_BYTES));
  return new Uint8Array(plain);
}

/** Bytes of a sealed share of `shareBytes`: iv, ciphertext, 16-byte tag. */
export function sealedShareBytes(shareBytes: number): number {
  return IV_BYTES + shareBytes + 16;
}
