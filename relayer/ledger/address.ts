/**
 * Hub addresses (docs/hub-address.md): bech32m text, human-readable part = the
 * network's address prefix, data = one version byte followed by 32 bytes.
 *   version 0: an ed25519 public key (an account that signs its own transactions);
 *   version 1: a derived module address (escrow, treasury, ...): SHA-256 of a label,
 *              nobody holds its key.
 * The checksum catches any single typo and most others; mixed case is refused. The
 * text form is at most 64 characters for a prefix of at most 4 characters.
 */
import { bech32m } from '@scure/base';
import { sha256 } from './bytes.ts';
import { TxRejected } from './errors.ts';

export const ADDRESS_VERSION_KEY = 0;
export const ADDRESS_VERSION_MODULE = 1;
export const MAX_ADDRESS_LENGTH = 64;
const PREFIX_PATTERN = /^[a-z]{1,4}$/;

export interface DecodedAddress {
  prefix: string;
  version: number;
  payload: Uint8Array; // 32 bytes
}

export function assertAddressPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) throw new RangeError('an address prefix is 1 to 4 lowercase letters');
}

function encode(prefix: string, version: number, payload: Uint8Array): string {
  assertAddressPrefix(prefix);
  if (payload.length !== 32) throw new RangeError('an address payload is 32 bytes');
  const data = new Uint8Array(33);
  data[0] = version;
  data.set(payload, 1);
  return bech32m.encode(prefix, bech32m.toWords(data), MAX_ADDRESS_LENGTH);
}

export function addressFromPublicKey(prefix: string, publicKey: Uint8Array): string {
  return encode(prefix, ADDRESS_VERSION_KEY, publicKey);
}

export function moduleAddress(prefix: string, label: string): string {
  return encode(prefix, ADDRESS_VERSION_MODULE, sha256(new TextEncoder().encode(`klx-module:${label}`)));
}

/** Decodes and checks an address for `expectedPrefix`; throws TxRejected(BAD_ADDRESS) with the reason. */
export function decodeAddress(text: unknown, expectedPrefix: string): DecodedAddress {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_ADDRESS_LENGTH) {
    throw new TxRejected('BAD_ADDRESS', `an address is a string of 1 to ${MAX_ADDRESS_LENGTH} characters`);
  }
  if (text !== text.toLowerCase()) throw new TxRejected('BAD_ADDRESS', 'an address is lowercase');
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(text as `${string}1${string}`, MAX_ADDRESS_LENGTH);
  } catch {
    throw new TxRejected('BAD_ADDRESS', 'address checksum or encoding is invalid (typo?)');
  }
  if (decoded.prefix !== expectedPrefix) {
    throw new TxRejected('BAD_ADDRESS', `address is for prefix "${decoded.prefix}", this network uses "${expectedPrefix}"`);
  }
  let data: Uint8Array;
  try {
    data = bech32m.fromWords(decoded.words);
  } catch {
    throw new TxRejected('BAD_ADDRESS', 'address data is not a whole number of bytes');
  }
  const version = data[0];
  if (data.length !== 33 || version === undefined) throw new TxRejected('BAD_ADDRESS', 'address data must be 33 bytes');
  if (version !== ADDRESS_VERSION_KEY && version !== ADDRESS_VERSION_MODULE) {
    throw new TxRejected('BAD_ADDRESS', `unknown address version ${version}`);
  }
  return { prefix: decoded.prefix, version, payload: data.slice(1) };
}

export function isValidAddress(text: unknown, prefix: string): boolean {
  try {
    decodeAddress(text, prefix);
    return true;
  } catch {
    return false;
  }
}
