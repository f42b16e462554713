/**
 * The hard override's ledger rules (issue 5), in memory with the rules every node re-executes:
 * propose → M approver confirmations → the processor last; a skip becomes a no-op at id n and
 * a replacement pays at most the original; refunds happen only when listeners attest which
 * payload executed at n. Every bad input is refused and changes nothing.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { keys, readRecord, type ActionRecord, type CustodyRecord, type OverrideRecord } from '../../relayer/ledger/bridge-state.ts';
import type { Attestation, ChainRegisterBody } from '../../relayer/ledger/bridge-bodies.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import type { SignedTx } from '../../relayer/ledger/transaction.ts';
import { ChainBuilder } from '../helpers/chain-builder.ts';
import { genesisFor, producerKey, PREFIX, user, type TestUser } from '../helpers/channel.ts';
import { TxFactory } from '../helpers/bridge-txs.ts';

const CUSTODY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TOKEN = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OTHER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const listeners = [0, 1, 2].map((i) => user(`ov-listener-${i}`));
const approvers = [0, 1, 2].map((i) => user(`ov-approver-${i}`)) as [TestUser, TestUser, TestUser];
const alice = user('ov-alice');
const mallory = user('ov-mallory');
const hash = (b: string) => `0x${b.repeat(32)}`;

describe('hard override rules', () => {
  let chain: ChainBuilder;
  let f: TxFactory;
  let nextEvent: number;
  const producer = { name: 'producer', key: producerKey(), address: addressFromPublicKey(PREFIX, producerKey().publicKey) } satisfies TestUser;
  const record = <T>(key: string) => readRecord<T>(chain.state, key);
  const action = () => record<ActionRecord>(keys.action('polygon', 1n)) as ActionRecord;
  const klx = () => chain.state.balance(alice.address, 'KLX');
  const custody = () => record<CustodyRecord>(keys.custody('polygon', 'KLX'));
  const expectRejected = (tx: SignedTx, code: string) => {
    const height = chain.state.head.height;
    assert.throws(() => chain.append(tx), (e: unknown) => e instanceof TxRejected && e.code === code, code);
    assert.equal(chain.state.head.height, height, `${code}: nothing recorded`);
    f.unuse(users.get(tx.sender) as TestUser);
  };
  const users = new Map([...approvers, ...listeners, alice, mallory, producer].map((u) => [u.address, u]));
  const share = (signature: string, payloadHash: string) => ({ actionId: '1', payloadHash, signer: signature, signature });
  /** Two approvals and the processor's co-signature of `payloadHash` (the hub stores what signers committed to). */
  const sign = (payloadHash: string) => {
    chain.append(f.sign(approvers[0], 'approve', { chain: 'polygon', items: [share('0xa0', payloadHash)] }));
    chain.append(f.sign(approvers[1], 'approve', { chain: 'polygon', items: [share('0xa1', payloadHash)] }));
    chain.append(f.sign(producer, 'cosign', { chain: 'polygon', items: [share('0x0f', payloadHash)] }));
  };
  const executed = (payloadHash: string) => {
    const e: Attestation = { kind: 'execution', eventId: String(nextEvent++), custody: CUSTODY, txHash: hash('44'), index: 0, blockHeight: '30', blockHash: hash('55'), actionId: '1', payloadHash, paid: true };
    for (const l of listeners.slice(0, 2)) chain.append(f.sign(l, 'attest', { chain: 'polygon', items: [e] }));
  };
  const propose = (by: TestUser, body: { kind: 'skip' } | { kind: 'replace'; asset: string; amount: string; recipient: string }) =>
    f.sign(by, 'override-propose', { chain: 'polygon', actionId: '1', ...body });
  const confirm = (by: TestUser) => f.sign(by, 'override-confirm', { chain: 'polygon', actionId: '1' });

  beforeEach(() => {
    chain = new ChainBuilder(producerKey(), genesisFor([alice, mallory]));
    f = new TxFactory();
    nextEvent = 1;
    const body: ChainRegisterBody = {
      chain: 'polygon',
      family: 'evm',
      chainRef: '137',
      custody: CUSTODY,
      listeners: listeners.map((l) => l.address),
      listenerQuorum: 2,
      approvers: approvers.map((a) => a.address),
      approverQuorum: 2,
      assets: [{ hubAsset: 'KLX', chainAsset: TOKEN, chainDecimals: 18, mode: 'mint' }],
    };
    chain.append(f.sign(producer, 'chain-register', body));
    chain.append(f.sign(alice, 'withdraw', { chain: 'polygon', asset: 'KLX', amount: '100000000', recipient: RECIPIENT }));
  });

  it('a skip needs M approvers and then the processor; the no-op that executes at n refunds the owner exactly once', () => {
    const before = klx();
    sign(hash('01')); // the original, co-signed: say its execution always reverts
    chain.append(propose(approvers[0], { kind: 'skip' }));
    expectRejected(confirm(approvers[0]), 'ALREADY_CONFIRMED');
    expectRejected(confirm(producer), 'QUORUM_NOT_REACHED');
    expectRejected(confirm(mallory), 'NOT_AUTHORIZED');
    chain.append(confirm(approvers[1]));
    assert.equal(action().status, 'signed', 'nothing changes before the processor confirms');
    chain.append(confirm(producer));
    const a = action();
    assert.deepEqual([a.kind, a.status, a.payloadHash, Object.keys(a.approvals).length, a.overridden?.payloadHash], ['noop', 'created', null, 0, hash('01')]);
    assert.equal(record<OverrideRecord>(keys.override('polygon', 1n))?.status, 'applied');
    assert.equal(klx(), before, 'no refund before the execution at n is attested');
    expectRejected(confirm(approvers[2]), 'NO_OVERRIDE');
    expectRejected(propose(approvers[2], { kind: 'skip' }), 'ALREADY_OVERRIDDEN');

    sign(hash('02')); // the no-op
    executed(hash('02'));
    assert.equal(action().status, 'skipped');
    assert.equal(klx(), before + 100_000_000n, 'refunded');
    assert.deepEqual(custody(), { held: '0', pendingOut: '0' }, 'nothing minted, nothing pending');
    executed(hash('02')); // a repeated attestation is a new event for an action already settled: the chain halts, nothing is refunded twice
    assert.equal(klx(), before + 100_000_000n);
  });

  it('settles the original, with no refund, if it lands at n before the no-op', () => {
    const before = klx();
    sign(hash('01'));
    chain.append(propose(approvers[0], { kind: 'skip' }));
    chain.append(confirm(approvers[2]));
    chain.append(confirm(producer));
    executed(hash('01'));
    const a = action();
    assert.deepEqual([a.status, a.kind, a.recipient, a.hubAmount], ['executed', 'mint', RECIPIENT, '100000000']);
    assert.equal(klx(), before);
    assert.deepEqual(custody(), { held: '100000000', pendingOut: '0' }, 'minted on the chain: locked on the hub');
  });

  it('a replacement pays at most the original, another recipient only with the owner’s consent; the rest is refunded at settlement', () => {
    const before = klx();
    expectRejected(propose(approvers[0], { kind: 'replace', asset: 'KLX', amount: '100000001', recipient: RECIPIENT }), 'REPLACEMENT_RAISES_AMOUNT');
    expectRejected(propose(approvers[0], { kind: 'replace', asset: 'ETH', amount: '1', recipient: RECIPIENT }), 'REPLACEMENT_CHANGES_ASSET');
    expectRejected(propose(approvers[0], { kind: 'replace', asset: 'KLX', amount: '60000000', recipient: OTHER }), 'OWNER_CONSENT_REQUIRED');
    expectRejected(propose(mallory, { kind: 'skip' }), 'NOT_AUTHORIZED');
    expectRejected(f.sign(mallory, 'override-consent', { chain: 'polygon', actionId: '1', recipient: OTHER }), 'NOT_OWNER');
    assert.equal(record(keys.override('polygon', 1n)), undefined, 'no bad input left a record');
    chain.append(f.sign(alice, 'override-consent', { chain: 'polygon', actionId: '1', recipient: OTHER }));
    chain.append(propose(approvers[1], { kind: 'replace', asset: 'KLX', amount: '60000000', recipient: OTHER }));
    expectRejected(propose(approvers[2], { kind: 'skip' }), 'OVERRIDE_EXISTS');
    chain.append(confirm(approvers[0]));
    chain.append(confirm(producer));
    const a = action();
    assert.deepEqual([a.kind, a.recipient, a.hubAmount, a.chainAmount, a.overridden?.payloadHash], ['mint', OTHER, '60000000', '60000000000000000', null]);
    sign(hash('03'));
    executed(hash('03'));
    assert.equal(action().status, 'executed');
    assert.equal(klx(), before + 40_000_000n, 'the 40 not paid is refunded');
    assert.deepEqual(custody(), { held: '60000000', pendingOut: '0' });
  });

  it('refuses to override an action that already executed', () => {
    sign(hash('01'));
    executed(hash('01'));
    expectRejected(propose(approvers[0], { kind: 'skip' }), 'ACTION_NOT_PENDING');
  });
});
