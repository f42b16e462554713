/**
 * Where a reorganisation starts among the blocks a listener attested. On one chain the
 * attested blocks are ancestors of one another, so the changed ones would be a run at the
 * top. But a node may apply a reorganisation block by block (anvil does) or a load balancer
 * mix two views, and a listener reading in between records a block of the new chain above
 * old ones. So the blocks are checked from the newest down, a window at a time, until a long
 * run of unchanged blocks lies below the lowest change seen. Callers pass a bounded number of
 * the newest attested blocks (ListenerStore.attestedBlocks): a halt costs a few hundred reads
 * at most.
 */
import type { BlockRef, ChainAdapter } from '../../adapters/chain-adapter.ts';

/** Consecutive unchanged blocks below the lowest change that end the search (64 to 71: it stops between windows). */
const SETTLED_RUN = 64;
/** Blocks checked at once (the EVM adapter's own read concurrency). */
const WINDOW = 8;

/** The lowest of `attested` (sorted by height, lowest first) whose block changed, or null if none did. */
export async function lowestChangedBlock(adapter: Pick<ChainAdapter, 'checkReorg'>, attested: readonly BlockRef[]): Promise<BlockRef | null> {
  let lowest: BlockRef | null = null;
  let unchangedRun = 0;
  for (let top = attested.length; top > 0 && unchangedRun < SETTLED_RUN; top -= WINDOW) {
    const window = attested.slice(Math.max(0, top - WINDOW), top);
    const changed = await Promise.all(window.map(async (b) => (await adapter.checkReorg([b])) !== null));
    for (let i = window.length - 1; i >= 0; i--) {
      if (changed[i]) {
        lowest = window[i] ?? lowest;
        unchangedRun = 0;
      } else {
        unchangedRun++;
      }
    }
  }
  return lowest;
}
