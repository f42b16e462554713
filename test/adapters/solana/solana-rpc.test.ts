/**
 * SolanaRpc.block: null means the slot was skipped. A block the node cannot serve now is a
 * retriable error, so no caller takes a lagging node's silence for an empty slot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChainRpcError } from '../../../adapters/chain-adapter.ts';
import { SolanaRpc } from '../../../adapters/solana/solana-rpc.ts';
import { startRpcProxy, type RpcProxy } from '../../helpers/rpc-proxy.ts';

const FINALIZED = 100;
const SKIPPED = 40;

describe('SolanaRpc.block', () => {
  let node: RpcProxy;
  let rpc: SolanaRpc;
  before(async () => {
    node = await startRpcProxy({
      answer(m) {
        if (m.method === 'getSlot') return { result: FINALIZED };
        if (m.method !== 'getBlock') return undefined;
        const slot = m.params[0] as number;
        if (slot === SKIPPED) return { error: { code: -32009, message: `Slot ${slot} was skipped, or missing in long-term storage` } };
        if (slot === 50) return { result: { blockhash: 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG', previousBlockhash: '11111111111111111111111111111111', parentSlot: 49, blockHeight: 49, blockTime: null, signatures: [] } };
        return { error: { code: -32004, message: `Block not available for slot ${slot}` } };
      },
    });
    rpc = new SolanaRpc('solana', node.url);
  });
  after(async () => {
    await node?.close();
  });

  it('serves a block', async () => {
    assert.equal((await rpc.block(50n, 'finalized'))?.hash, 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG');
  });

  it('says a skipped slot holds no block', async () => {
    assert.equal(await rpc.block(BigInt(SKIPPED), 'finalized'), null);
  });

  it('refuses, retriably, to call a slot it cannot serve empty: a block it lacks, or one above its finalized slot', async () => {
    await assert.rejects(rpc.block(60n, 'finalized'), (e) => e instanceof ChainRpcError && e.retriable && /cannot serve/.test(e.message));
    await assert.rejects(rpc.block(BigInt(FINALIZED + 5), 'finalized'), (e) => e instanceof ChainRpcError && e.retriable);
  });
});
