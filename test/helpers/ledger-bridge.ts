/**
 * An in-memory bridge channel with one EVM chain ("ethereum": KLX locked as an ERC20 with 18
 * decimals, the native coin as ETH), 3 listeners (quorum 2) and 3 approvers (quorum 2), for
 * ledger-rule tests that play the listeners, approvers and processor themselves.
 */
import assert from 'node:assert/strict';
import { keys, readRecord, type ActionRecord, type CustodyRecord, type PendingFifo, type PendingTransfer } from '../../relayer/ledger/bridge-state.ts';
import type { Attestation, ChainRegisterBody } from '../../relayer/ledger/bridge-bodies.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import type { SignedTx } from '../../relayer/ledger/transaction.ts';
import type { TxBodies } from '../../relayer/ledger/tx-bodies.ts';
import { ChainBuilder } from './chain-builder.ts';
import { genesisFor, producerKey, PREFIX, user, type TestUser } from './channel.ts';
import { TxFactory } from './bridge-txs.ts';

export const CUSTODY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
export const KLX_TOKEN = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
export const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
/** Chain base units of one hub base unit of KLX (18 decimals there, 9 on the hub). */
export const KLX_SCALE = 10n ** 9n;

export class LedgerBridge {
  readonly chain: ChainBuilder;
  readonly f = new TxFactory();
  readonly listeners = [0, 1, 2].map((i) => user(`lb-listener-${i}`));
  readonly approvers = [0, 1, 2].map((i) => user(`lb-approver-${i}`));
  readonly producer: TestUser = { name: 'producer', key: producerKey(), address: addressFromPublicKey(PREFIX, producerKey().publicKey) };
  private nextEvent = 1;
  private readonly users: Map<string, TestUser>;

  constructor(holders: TestUser[], amount = 100n * 10n ** 9n) {
    this.chain = new ChainBuilder(producerKey(), genesisFor(holders, amount));
    this.users = new Map([...holders, ...this.listeners, ...this.approvers, this.producer].map((u) => [u.address, u]));
    const body: ChainRegisterBody = {
      chain: 'ethereum',
      family: 'evm',
      chainRef: '1',
      custody: CUSTODY,
      listeners: this.listeners.map((l) => l.address),
      listenerQuorum: 2,
      approvers: this.approvers.map((a) => a.address),
      approverQuorum: 2,
      assets: [
        { hubAsset: 'KLX', chainAsset: KLX_TOKEN, chainDecimals: 18, mode: 'lock' },
        { hubAsset: 'ETH', chainAsset: 'native', chainDecimals: 18, mode: 'lock' },
      ],
    };
    this.append(this.producer, 'chain-register', body);
  }

  append<T extends keyof TxBodies>(from: TestUser, type: T, body: TxBodies[T], lane = 0): SignedTx<T> {
    const tx = this.f.sign(from, type, body, lane);
    this.chain.append(tx);
    return tx;
  }

  /** Appends a transaction that must be refused with `code`: nothing is recorded, the nonce is not used. */
  rejects<T extends keyof TxBodies>(from: TestUser, type: T, body: TxBodies[T], code: string): TxRejected {
    const height = this.chain.state.head.height;
    const tx = this.f.sign(from, type, body);
    let err: unknown;
    try {
      this.chain.append(tx);
    } catch (e) {
      err = e;
    }
    this.f.unuse(from);
    assert.ok(err instanceof TxRejected && err.code === code, `expected ${code}, got ${err instanceof Error ? `${(err as TxRejected).code}: ${err.message}` : 'success'}`);
    assert.equal(this.chain.state.head.height, height, `${code}: nothing recorded`);
    return err;
  }

  record<T>(key: string): T | undefined {
    return readRecord<T>(this.chain.state, key);
  }
  balance(u: TestUser | string, asset: string): bigint {
    return this.chain.state.balance(typeof u === 'string' ? u : u.address, asset);
  }
  action(id: bigint | string | number): ActionRecord | undefined {
    return this.record<ActionRecord>(keys.action('ethereum', id));
  }
  custody(asset: string): { held: bigint; pendingOut: bigint } {
    const c = this.record<CustodyRecord>(keys.custody('ethereum', asset));
    return { held: BigInt(c?.held ?? '0'), pendingOut: BigInt(c?.pendingOut ?? '0') };
  }
  fifo(asset: string): PendingFifo | undefined {
    return this.record<PendingFifo>(keys.fifo('ethereum', asset));
  }
  pending(asset: string, seq: bigint | string | number): PendingTransfer | undefined {
    return this.record<PendingTransfer>(keys.pending('ethereum', asset, seq));
  }
  nextActionId(): bigint {
    return BigInt(this.record<{ nextActionId: string }>(keys.cursor('ethereum'))?.nextActionId ?? '1');
  }
  halted(): string | null {
    return this.record<{ halted: string | null }>(keys.cursor('ethereum'))?.halted ?? null;
  }

  private attest(item: Attestation, quorum = 2): void {
    for (const l of this.listeners.slice(0, quorum)) this.append(l, 'attest', { chain: 'ethereum', items: [item] });
  }

  /** A deposit on the chain, attested by the listener quorum. `chainAsset`: KLX_TOKEN or 'native'. */
  deposit(chainAsset: string, chainAmount: bigint, recipient: string): string {
    const eventId = String(this.nextEvent++);
    this.attest({
      kind: 'deposit',
      eventId,
      custody: CUSTODY,
      txHash: `0x${eventId.padStart(64, '0')}`,
      index: 0,
      blockHeight: eventId,
      blockHash: `0x${'ab'.repeat(32)}`,
      asset: chainAsset,
      amount: chainAmount.toString(),
      recipient,
      refundTo: RECIPIENT,
    });
    return eventId;
  }

  /** M approvals and the processor's co-signature of action `id` over `payloadHash`. */
  sign(id: bigint | string | number, payloadHash = `0x${id.toString(16).padStart(64, '0')}`): string {
    const share = (signature: string) => ({ actionId: id.toString(), payloadHash, signer: signature, signature });
    this.append(this.approvers[0] as TestUser, 'approve', { chain: 'ethereum', items: [share('0xa0')] });
    this.append(this.approvers[1] as TestUser, 'approve', { chain: 'ethereum', items: [share('0xa1')] });
    this.append(this.producer, 'cosign', { chain: 'ethereum', items: [share('0x0f')] });
    return payloadHash;
  }

  /** The listeners' attestation that `payloadHash` executed at id `id`. */
  executed(id: bigint | string | number, payloadHash: string, paid = true): void {
    const eventId = String(this.nextEvent++);
    this.attest({ kind: 'execution', eventId, custody: CUSTODY, txHash: `0x${eventId.padStart(64, 'e')}`, index: 0, blockHeight: eventId, blockHash: `0x${'cd'.repeat(32)}`, actionId: id.toString(), payloadHash, paid });
  }

  /** Custody readings of `quorum` listeners at one height. */
  sync(chainAsset: string, height: bigint, balance: bigint, floor: bigint, quorum = 2): void {
    const item = { asset: chainAsset, blockHeight: height.toString(), blockHash: `0x${height.toString(16).padStart(64, '0')}`, balance: balance.toString(), floor: floor.toString() };
    for (const l of this.listeners.slice(0, quorum)) this.append(l, 'custody-sync', { chain: 'ethereum', items: [item] });
  }

  userOf(address: string): TestUser {
    const u = this.users.get(address);
    if (!u) throw new Error(`unknown test user ${address}`);
    return u;
  }
}
