import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainRpcError } from '../../adapters/chain-adapter.ts';
import { probeChains } from '../../relayer/listener/chain-probe.ts';

const chain = (name: string, outcome: 'ok' | 'down' | 'refused') => ({
  name,
  adapter: {
    probe: () =>
      outcome === 'ok'
        ? Promise.resolve()
        : Promise.reject(new ChainRpcError(name, outcome === 'down' ? 'connect ECONNREFUSED' : 'the RPC refuses a block named by its hash (EIP-1898)', outcome === 'down')),
  },
});

describe('probeChains (the listener start-up check)', () => {
  it('passes chains whose RPC serves every read, and reports unreachable ones without stopping', async () => {
    const unreachable = await probeChains([chain('ethereum', 'ok'), chain('polygon', 'down')]);
    assert.deepEqual([...unreachable.keys()], ['polygon']);
    assert.match(unreachable.get('polygon')?.message ?? '', /ECONNREFUSED/);
    assert.equal((await probeChains([chain('ethereum', 'ok')])).size, 0);
  });

  it('stops at start with the reason when an RPC lacks a read observing needs', async () => {
    await assert.rejects(
      probeChains([chain('ethereum', 'ok'), chain('polygon', 'down'), chain('gnosis', 'refused')]),
      (e) => e instanceof ChainRpcError && !e.retriable && e.code === 'CHAIN_RPC_REFUSED' && /gnosis: .*EIP-1898/.test(e.message),
    );
  });

  it('counts a probe that hangs as unreachable after its timeout, without holding up the others', async () => {
    const hanging = { name: 'tezos', adapter: { probe: () => new Promise<void>(() => undefined) } };
    const unreachable = await probeChains([chain('ethereum', 'ok'), hanging], 50);
    assert.deepEqual([...unreachable.keys()], ['tezos']);
    assert.match(unreachable.get('tezos')?.message ?? '', /no answer in 50 ms/);
  });
});
