/**
 * The listener's start-up check of its chains' RPCs (ChainAdapter.probe): an RPC that lacks
 * a read observing needs (EIP-1898 on EVM, transaction history on Solana) stops the
 * listener at start with the reason, instead of failing on every poll; one that cannot be
 * reached now is reported and left to the polls, which retry.
 */
import type { ChainAdapter } from '../../adapters/chain-adapter.ts';
import type { KlxError } from '../ledger/errors.ts';

export interface ProbedChain {
  name: string;
  adapter: Pick<ChainAdapter, 'probe'>;
}

/** Probes every chain; throws the first non-retriable failure; returns the retriable ones by chain. */
export async function probeChains(chains: readonly ProbedChain[]): Promise<Map<string, Error>> {
  const unreachable = new Map<string, Error>();
  const results = await Promise.allSettled(chains.map((c) => c.adapter.probe()));
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    const err = r.reason as KlxError;
    if (err.retriable !== true) throw err;
    unreachable.set(chains[i]?.name ?? '', err);
  }
  return unreachable;
}
