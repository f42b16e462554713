/**
 * The listener's start-up check of its chains' RPCs (ChainAdapter.probe): an RPC that lacks
 * a read observing needs (EIP-1898 on EVM, transaction history on Solana) stops the
 * listener at start with the reason, instead of failing on every poll; one that cannot be
 * reached now is reported and left to the polls, which retry.
 */
import { ChainRpcError, type ChainAdapter } from '../../adapters/chain-adapter.ts';
import type { KlxError } from '../ledger/errors.ts';

export interface ProbedChain {
  name: string;
  adapter: Pick<ChainAdapter, 'probe'>;
}

/** How long a probe may take before its RPC counts as unreachable (a hanging RPC must not hold up the other chains). */
export const PROBE_TIMEOUT_MS = 30_000; // a few requests in a row, each with the transport's own 10 s limit

/** Probes every chain; throws the first non-retriable failure; returns the retriable ones (and timeouts) by chain. */
export async function probeChains(chains: readonly ProbedChain[], timeoutMs = PROBE_TIMEOUT_MS): Promise<Map<string, Error>> {
  const unreachable = new Map<string, Error>();
  const timed = (c: ProbedChain) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChainRpcError(c.name, `the start-up probe got no answer in ${timeoutMs} ms`, true)), timeoutMs);
    });
    return Promise.race([c.adapter.probe(), timeout]).finally(() => clearTimeout(timer));
  };
  const results = await Promise.allSettled(chains.map(timed));
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    const err = r.reason as KlxError;
    if (err.retriable !== true) throw err;
    unreachable.set(chains[i]?.name ?? '', err);
  }
  return unreachable;
}
