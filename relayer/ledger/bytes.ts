/**
 * Canonical binary encoding primitives (docs/hub-encoding.md). Big-endian fixed-width
 * integers, u32-length-prefixed byte strings and UTF-8 strings. The reader is strict:
 * it refuses truncated input, over-long lengths and trailing bytes.
 */
import { createHash } from 'node:crypto';

export const MAX_U64 = (1n << 64n) - 1n;
export const MAX_U128 = (1n << 128n) - 1n;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string, expectedLength?: number): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(s)) throw new RangeError('not a hex string');
  const b = new Uint8Array(Buffer.from(s, 'hex'));
  if (expectedLength !== undefined && b.length !== expectedLength) {
    throw new RangeError(`expected ${expectedLength} bytes, got ${b.length}`);
  }
  return b;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  raw(b: Uint8Array): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }
  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError('u8 out of range');
    return this.raw(Uint8Array.of(v));
  }
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('u32 out of range');
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.raw(b);
  }
  u64(v: bigint): this {
    if (v < 0n || v > MAX_U64) throw new RangeError('u64 out of range');
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    return this.raw(b);
  }
  u128(v: bigint): this {
    if (v < 0n || v > MAX_U128) throw new RangeError('u128 out of range');
    return this.u64(v >> 64n).u64(v & MAX_U64);
  }
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  str(s: string): this {
    return this.bytes(utf8.encode(s));
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export class ByteReader {
  private off = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (n < 0 || this.off + n > this.buf.length) throw new RangeError('truncated input');
  }
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.off++);
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.off);
    this.off += 8;
    return v;
  }
  u128(): bigint {
    const hi = this.u64();
    return (hi << 64n) | this.u64();
  }
  bytes(): Uint8Array {
    return this.raw(this.u32());
  }
  str(): string {
    return utf8Strict.decode(this.bytes());
  }
  get remaining(): number {
    return this.buf.length - this.off;
  }
  end(): void {
    if (this.remaining !== 0) throw new RangeError(`${this.remaining} trailing bytes`);
  }
}
