/**
 * ed25519 keys for hub roles and users, on Node's native crypto. A private key is a
 * 32-byte seed; it is never logged: `Ed25519Signer` has no enumerable secret field
 * and prints as its public key only.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { fromHex, toHex, sha256 } from './bytes.ts';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class Ed25519Signer {
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  private constructor(key: KeyObject) {
    this.#key = key;
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
  }

  static fromSeed(seed: Uint8Array): Ed25519Signer {
    if (seed.length !== 32) throw new RangeError('an ed25519 seed is 32 bytes');
    const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
    return new Ed25519Signer(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  }

  static fromSeedHex(hex: string): Ed25519Signer {
    return Ed25519Signer.fromSeed(fromHex(hex.trim(), 32));
  }

  static generate(): Ed25519Signer {
    return Ed25519Signer.fromSeed(new Uint8Array(randomBytes(32)));
  }

  /** Deterministic key for devnets and tests only: never use for real funds. */
  static devnet(name: string): Ed25519Signer {
    return Ed25519Signer.fromSeed(sha256(new TextEncoder().encode(`klx-devnet-key:${name}`)));
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#key));
  }

  /** The seed, for writing a key file. */
  exportSeedHex(): string {
    const der = this.#key.export({ format: 'der', type: 'pkcs8' });
    return toHex(new Uint8Array(der.subarray(PKCS8_ED25519_PREFIX.length)));
  }

  toString(): string {
    return `Ed25519Signer(${toHex(this.publicKey)})`;
  }
  toJSON(): { publicKey: string } {
    return { publicKey: toHex(this.publicKey) };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const publicKeyCache = new Map<string, KeyObject>();
const CACHE_LIMIT = 10_000;

function publicKeyObject(pub: Uint8Array): KeyObject {
  const id = toHex(pub);
  let key = publicKeyCache.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= CACHE_LIMIT) publicKeyCache.clear();
    publicKeyCache.set(id, key);
  }
  return key;
}

/** Strict ed25519 verification; false (never a throw) for any malformed key or signature. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
