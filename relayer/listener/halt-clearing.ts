/**
 * The operator's `listener-clear-halt`: after investigating a halted chain, the listener
 * accepts the chain's history as it is now. Its cursor is re-anchored on the chain's block
 * at (or, where that slot is empty now, just below) the cursor height, and every attested
 * block the chain no longer has is forgotten, so the listener continues along the new
 * chain instead of halting again for the same change.
 */
import type { BlockRef, ChainAdapter } from '../../adapters/chain-adapter.ts';
import { KlxError } from '../ledger/errors.ts';
import type { ListenerStore } from './listener-store.ts';
import { lowestChangedBlock } from './reorg-search.ts';

/** Empty slots looked through below the cursor height for a block to re-anchor on. */
export const MAX_EMPTY_SLOTS = 1024;

export class HaltNotClearable extends KlxError {
  constructor(chain: string, reason: string, retriable: boolean) {
    super('HALT_NOT_CLEARABLE', `${chain}: ${reason}`, retriable, { chain });
  }
}

export interface HaltClearing {
  /** False when the chain was not halted (nothing changed). */
  cleared: boolean;
  /** The block the cursor continues from, if the listener had a cursor. */
  anchor: BlockRef | null;
  /** The height from which attested blocks were forgotten, if any. */
  forgotFrom: bigint | null;
}

/**
 * The chain's block at `height` or, where that height has no block now (a skipped Solana
 * slot), the nearest block below it. Moving the cursor down over empty slots rescans
 * nothing: no block lies between the two, so the event numbering is unchanged.
 */
async function anchorAt(adapter: Pick<ChainAdapter, 'head' | 'blockAt'>, chain: string, height: bigint): Promise<BlockRef> {
  const { final } = await adapter.head();
  if (final.height < height) {
    throw new HaltNotClearable(chain, `the chain's final block ${final.height} is below the listener's cursor height ${height} now; retry once the chain is past it`, true);
  }
  for (let h = height; h >= 0n && height - h <= BigInt(MAX_EMPTY_SLOTS); h--) {
    const block = await adapter.blockAt(h);
    if (block) return block;
  }
  throw new HaltNotClearable(chain, `no block at the cursor height ${height} nor in the ${MAX_EMPTY_SLOTS} heights below it`, false);
}

export async function clearListenerHalt(
  store: Pick<ListenerStore, 'halted' | 'cursor' | 'attestedBlocks' | 'clearHalt'>,
  adapter: Pick<ChainAdapter, 'head' | 'blockAt' | 'checkReorg'>,
  chain: string,
): Promise<HaltClearing> {
  if (!(await store.halted(chain))) return { cleared: false, anchor: null, forgotFrom: null };
  const cursor = await store.cursor(chain);
  const anchor = cursor ? await anchorAt(adapter, chain, cursor.block.height) : null;
  // Forget every attested block the chain no longer has, as it stands now (the halt may have seen a reorganisation half applied).
  const changed = await lowestChangedBlock(adapter, await store.attestedBlocks(chain));
  const reanchor = cursor && anchor ? { from: cursor.block, to: anchor } : null;
  const { cleared, forgotFrom } = await store.clearHalt(chain, reanchor, changed?.height ?? null);
  return { cleared, anchor: cleared ? anchor : null, forgotFrom };
}
