/** The adapter registry chooses a chain's adapter by name and fails loudly otherwise. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainAdapterRegistry, UnknownChainError, type ChainAdapter } from '../../adapters/chain-adapter.ts';
import { KlxError } from '../../relayer/ledger/errors.ts';

// The registry only reads `chain`; the rest of an adapter is not exercised here.
const adapter = (chain: string) => ({ family: 'evm', chain }) as unknown as ChainAdapter;

describe('ChainAdapterRegistry', () => {
  it('returns the adapter of a configured chain and names the configured ones for an unknown chain', () => {
    const r = new ChainAdapterRegistry();
    const eth = adapter('ethereum');
    r.register(eth);
    r.register(adapter('polygon'));
    assert.equal(r.get('ethereum'), eth);
    assert.throws(
      () => r.get('tezos'),
      (e) => e instanceof UnknownChainError && e.code === 'UNKNOWN_CHAIN' && !e.retriable && /configured: ethereum, polygon/.test(e.message),
    );
    assert.throws(() => r.register(adapter('polygon')), (e) => e instanceof KlxError && e.code === 'DUPLICATE_CHAIN');
    assert.deepEqual(r.chains(), ['ethereum', 'polygon']);
  });
});
