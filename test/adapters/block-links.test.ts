import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keccak256 } from 'viem';
import { bloomMayContain, brokenLink, type LinkedHeader } from '../../adapters/evm/block-links.ts';

const chain = (base: bigint, n: number, fork = 'a'): LinkedHeader[] =>
  Array.from({ length: n }, (_, i) => ({ height: base + BigInt(i), hash: `${fork}${base + BigInt(i)}`, parentHash: `${fork}${base + BigInt(i) - 1n}` }));

describe('brokenLink', () => {
  it('accepts one chain, a single block and nothing', () => {
    assert.equal(brokenLink(10n, chain(10n, 5)), null);
    assert.equal(brokenLink(10n, chain(10n, 1)), null);
    assert.equal(brokenLink(10n, []), null);
  });

  it('names the first block that does not follow the one below it', () => {
    // 10-12 old, 13-14 of a new history whose 12 is not the old 12.
    const mixed = [...chain(10n, 3), ...chain(13n, 2, 'b')];
    assert.equal(brokenLink(10n, mixed), 13n);
    // New below old: the old block's parent is the old 12, not the new one.
    assert.equal(brokenLink(10n, [...chain(10n, 3, 'b'), ...chain(13n, 2)]), 13n);
  });

  it('names a missing block, a block at the wrong height, or a gap', () => {
    const c = chain(10n, 4);
    assert.equal(brokenLink(10n, [c[0] ?? null, null, c[2] ?? null, c[3] ?? null]), 11n);
    assert.equal(brokenLink(10n, [null, ...c.slice(1)]), 11n);
    assert.equal(brokenLink(9n, c), 10n, 'heights that do not match their positions');
    assert.equal(brokenLink(10n, [c[0] ?? null, c[2] ?? null]), 11n);
  });
});

describe('bloomMayContain', () => {
  const address = '0x52908400098527886e0f7030069857d2e4169ee7';
  it('an empty bloom holds nothing; a full, missing or malformed one may hold anything', () => {
    assert.equal(bloomMayContain(`0x${'00'.repeat(256)}`, address), false);
    assert.equal(bloomMayContain(`0x${'ff'.repeat(256)}`, address), true);
    assert.equal(bloomMayContain(null, address), true);
    assert.equal(bloomMayContain('0x1234', address), true);
  });

  it('sets exactly the three bits the value names, and one bit fewer is a miss', () => {
    // The bits of M3:2048, computed here from the yellow paper's definition, byte by byte.
    const h = Buffer.from(keccak256(address).slice(2), 'hex');
    const bits = [0, 2, 4].map((i) => ((((h[i] ?? 0) << 8) | (h[i + 1] ?? 0)) & 2047));
    const bloomWith = (set: number[]) => {
      const b = Buffer.alloc(256);
      for (const bit of set) b[255 - (bit >> 3)] = (b[255 - (bit >> 3)] ?? 0) | (1 << (bit & 7));
      return `0x${b.toString('hex')}`;
    };
    assert.equal(bloomMayContain(bloomWith(bits), address), true);
    assert.equal(bloomMayContain(bloomWith(bits.slice(1)), address), bits.slice(1).includes(bits[0] ?? -1));
  });
});
