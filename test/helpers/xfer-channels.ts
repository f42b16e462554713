/**
 * Two in-memory channels ("bridge" and "main", each with its own producer) linked for
 * inter-channel transfers through one coordinator key, for rule tests that play the
 * coordinator themselves. Blocks are sealed exactly as a processor seals them.
 */
import assert from 'node:assert/strict';
import { blockWireBytes, type Block } from '../../relayer/ledger/block.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import { readRecord } from '../../relayer/ledger/bridge-state.ts';
import { signTx, type SignedTx } from '../../relayer/ledger/transaction.ts';
import type { TxBodies } from '../../relayer/ledger/tx-bodies.ts';
import { xferKeys, type XferRecord } from '../../relayer/ledger/xfer-rules.ts';
import type { TransferId } from '../../relayer/ledger/xfer-bodies.ts';
import { ChainBuilder } from './chain-builder.ts';
import { genesisFor, NETWORK, PREFIX, producerKey, user, type TestUser } from './channel.ts';
import { TxFactory } from './bridge-txs.ts';

export const CHANNELS = ['bridge', 'main'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export class TwoChannels {
  readonly coordinator = user('xfer-coordinator');
  readonly chains: Record<ChannelName, ChainBuilder>;
  private readonly factories: Record<ChannelName, TxFactory>;
  private requestNonce = 0n;

  constructor(holders: TestUser[], amount = 1_000_000n, maxAmount = 500_000n) {
    this.chains = { bridge: new ChainBuilder(producerKey('bridge'), genesisFor(holders, amount), 'bridge'), main: new ChainBuilder(producerKey('main'), genesisFor(holders, amount), 'main') };
    this.factories = { bridge: new TxFactory('bridge'), main: new TxFactory('main') };
    for (const [here, peer] of [['bridge', 'main'], ['main', 'bridge']] as const) {
      const p = producerKey(here);
      const producer: TestUser = { name: `producer-${here}`, key: p, address: addressFromPublicKey(PREFIX, p.publicKey) };
      this.append(here, producer, 'channel-link', { peer, peerProducer: toHex(producerKey(peer).publicKey), coordinator: this.coordinator.address, maxAmount: maxAmount.toString() });
    }
  }

  append<T extends keyof TxBodies>(ch: ChannelName, from: TestUser, type: T, body: TxBodies[T]): Block {
    return this.chains[ch].append(this.factories[ch].sign(from, type, body));
  }

  /** The transaction must be refused with `code`; nothing is recorded. */
  rejects<T extends keyof TxBodies>(ch: ChannelName, from: TestUser, type: T, body: TxBodies[T], code: string): void {
    const height = this.chains[ch].state.head.height;
    let err: unknown;
    try {
      this.chains[ch].append(this.factories[ch].sign(from, type, body));
    } catch (e) {
      err = e;
    }
    this.factories[ch].unuse(from);
    assert.ok(err instanceof TxRejected && err.code === code, `expected ${code}, got ${err instanceof TxRejected ? `${err.code}: ${err.message}` : String(err)}`);
    assert.equal(this.chains[ch].state.head.height, height, `${code}: nothing recorded`);
  }

  /** A sender's signed transfer request for `source` (never submitted to a channel). */
  request(sender: TestUser, source: ChannelName, body: TxBodies['xfer-request']): SignedTx<'xfer-request'> {
    return signTx({ network: NETWORK, channel: source, type: 'xfer-request', sender: sender.address, lane: 0, nonce: this.requestNonce++, body }, sender.key);
  }

  prepare(ch: ChannelName, id: TransferId, side: 'source' | 'dest', req: SignedTx): Block {
    return this.append(ch, this.coordinator, 'xfer-prepare', { id, side, request: toHex(req.encoded) });
  }
  commit(ch: ChannelName, id: TransferId, proof: Block): Block {
    return this.append(ch, this.coordinator, 'xfer-commit', { id, proof: toHex(blockWireBytes(proof)) });
  }
  abort(ch: ChannelName, id: TransferId, peer: ChannelName, proof?: Block): Block {
    return this.append(ch, this.coordinator, 'xfer-abort', { id, peer, ...(proof ? { proof: toHex(blockWireBytes(proof)) } : {}) });
  }

  transfer(ch: ChannelName, id: TransferId): XferRecord | undefined {
    return readRecord<XferRecord>(this.chains[ch].state, xferKeys.transfer(`${id.epoch}.${id.seq}`));
  }
  balance(ch: ChannelName, address: string, asset = 'KLX'): bigint {
    return this.chains[ch].state.balance(address, asset);
  }
  /** Total of an asset over every balance (escrows included) of both channels. */
  total(asset = 'KLX'): bigint {
    let sum = 0n;
    for (const ch of CHANNELS) for (const b of this.chains[ch].state.balanceEntries()) if (b.asset === asset) sum += b.amount;
    return sum;
  }
}
