/** Parent links between consecutive EVM block headers (pure). */

export interface LinkedHeader {
  height: bigint;
  hash: string;
  parentHash: string;
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
