/** Parent links between consecutive EVM block headers, and their log blooms (pure). */
import { hexToBytes, keccak256, type Hex } from 'viem';

export interface LinkedHeader {
  height: bigint;
  hash: string;
  parentHash: string;
  /** The block's 256-byte log bloom (0x-hex), where the node gave one. */
  logsBloom?: string | null;
}

/**
 * `headers` are the blocks at heights base, base + 1, ... (null where a block is missing;
 * lowercase hashes). Returns the first height above `base` whose block is missing or does
 * not name the block below it as its parent, or null when they form one chain.
 */
export function brokenLink(base: bigint, headers: readonly (LinkedHeader | null)[]): bigint | null {
  for (let i = 1; i < headers.length; i++) {
    const below = headers[i - 1];
    const h = headers[i];
    const height = base + BigInt(i);
    if (!h || !below || h.height !== height || below.height !== height - 1n || h.parentHash !== below.hash) return height;
  }
  return null;
}

/**
 * Whether a log bloom may hold `value` (an address or a topic, as 0x-hex): the three bits
 * the yellow paper's M3:2048 sets for it are all set. False means the block has no log
 * with it; true may be a false positive. A missing or malformed bloom may hold anything.
 */
export function bloomMayContain(bloom: string | null | undefined, value: Hex): boolean {
  if (!bloom || !/^0x[0-9a-fA-F]{512}$/.test(bloom)) return true;
  const bits = hexToBytes(bloom as Hex);
  const h = hexToBytes(keccak256(value));
  for (let i = 0; i < 6; i += 2) {
    const bit = (((h[i] ?? 0) << 8) | (h[i + 1] ?? 0)) & 2047;
    if (((bits[255 - (bit >> 3)] ?? 0) & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
