/** Signed bridge transactions for tests, with a per-(sender, lane) nonce counter. */
import { signTx, type SignedTx } from '../../relayer/ledger/transaction.ts';
import type { TxBodies } from '../../relayer/ledger/tx-bodies.ts';
import { NETWORK, type TestUser } from './channel.ts';

export class TxFactory {
  private readonly nonces = new Map<string, bigint>();
  constructor(readonly channel = 'bridge') {}

  sign<T extends keyof TxBodies>(from: TestUser, type: T, body: TxBodies[T], lane = 0): SignedTx<T> {
    const k = `${from.address}/${lane}`;
    const nonce = this.nonces.get(k) ?? 0n;
    this.nonces.set(k, nonce + 1n);
    return signTx({ network: NETWORK, channel: this.channel, type, sender: from.address, lane, nonce, body }, from.key);
  }

  /** Forgets a nonce that a rejected transaction did not consume. */
  unuse(from: TestUser, lane = 0): void {
    const k = `${from.address}/${lane}`;
    this.nonces.set(k, (this.nonces.get(k) ?? 1n) - 1n);
  }
}
