/**
 * Canonical JSON: the byte form of bridge transaction bodies and bridge state records
 * (docs/hub-encoding.md). Objects with keys sorted by UTF-16 code unit, no whitespace,
 * strings and integers only (big numbers travel as decimal strings), no floats. One
 * value has exactly one encoding, so every node hashes the same bytes.
 */
export type CanonicalValue = string | number | boolean | null | CanonicalValue[] | { [k: string]: CanonicalValue };

export function canonicalJson(v: CanonicalValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError('canonical JSON carries safe integers only');
    return String(v);
  }
  // Built by concatenation, and keys sorted only where they are not in order yet (records
  // parsed from canonical bytes always are): about a third cheaper than map, join and sort.
  let out: string;
  if (Array.isArray(v)) {
    out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(v[i] as CanonicalValue);
    return `${out}]`;
  }
  const keys = Object.keys(v);
  for (let i = 1; i < keys.length; i++) {
    if (!((keys[i - 1] as string) < (keys[i] as string))) {
      keys.sort();
      break;
    }
  }
  out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    out += `${i > 0 ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v[k] as CanonicalValue)}`;
  }
  return `${out}}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function canonicalBytes(v: CanonicalValue): Uint8Array {
  return encoder.encode(canonicalJson(v));
}

/** Parses canonical JSON bytes; refuses any other spelling of the same value. */
export function parseCanonical(bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes);
  const value = JSON.parse(text) as CanonicalValue;
  if (canonicalJson(value) !== text) throw new RangeError('not in canonical form');
  return value;
}

/**
 * Parses a state record: bytes this process made with `canonicalBytes` (rules), or loaded
 * from its own store, which checks them with `parseCanonical` once at load. Skips the
 * re-encoding check, which cost more than the parse; anything from outside goes through
 * `parseCanonical`.
 */
export function parseStateRecord(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes)) as unknown;
}
