/**
 * SolanaRpc.block: null means the slot holds no block (skipped, or above the node's slot at
 * that commitment). A block the node should serve but cannot now is a retriable error, so
 * no caller takes a lagging node's silence for an empty slot.
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

  it('says a skipped slot and a slot above the node\'s finalized slot hold no block', async () => {
    assert.equal(await rpc.block(BigInt(SKIPPED), 'finalized'), null);
    assert.equal(await rpc.block(BigInt(FINALIZED + 5), 'finalized'), null);
  });

  it('refuses, retriably, to call a block the node lacks below its finalized slot empty', async () => {
    await assert.rejects(rpc.block(60n, 'finalized'), (e) => e instanceof ChainRpcError && e.retriable && /cannot serve/.test(e.message));
  });
});
