/**
 * Pending-funds FIFO and custody accounting on the hub (issue 5), with the rules every node
 * re-executes: withdrawals custody cannot cover wait in arrival order per (chain, asset);
 * the owner may cancel and is refunded at once; claimable deposits stay reserved; listener
 * custody syncs credit top-ups to the treasury and halt the chain on an unexplained decrease.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { treasuryAddress } from '../../relayer/ledger/custody-sync-rules.ts';
import { keys, type CustodySyncRecord } from '../../relayer/ledger/bridge-state.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { decodeTx } from '../../relayer/ledger/transaction.ts';
import { PREFIX, user } from '../helpers/channel.ts';
import { KLX_SCALE, KLX_TOKEN, LedgerBridge, RECIPIENT } from '../helpers/ledger-bridge.ts';

const alice = user('pf-alice');
const bob = user('pf-bob');
const carol = user('pf-carol');
const KLX = 10n ** 9n; // one KLX in hub base units

describe('pending-funds FIFO', () => {
  let b: LedgerBridge;
  const withdraw = (who: typeof alice, amount: bigint, asset = 'KLX') => b.append(who, 'withdraw', { chain: 'ethereum', asset, amount: amount.toString(), recipient: RECIPIENT });

  beforeEach(() => {
    b = new LedgerBridge([alice, bob]);
    b.deposit(KLX_TOKEN, 5n * KLX * KLX_SCALE, carol.address); // custody: 5 KLX
  });

  it('a withdrawal custody cannot cover waits, debited; later ones wait behind it; growth releases them strictly in arrival order', () => {
    withdraw(alice, 8n * KLX);
    assert.equal(b.balance(alice, 'KLX'), 92n * KLX, 'debited at once');
    assert.equal(b.nextActionId(), 1n, 'no action yet');
    withdraw(bob, 1n * KLX); // custody covers it, but it arrived after alice's
    assert.equal(b.nextActionId(), 1n, 'a later transfer never overtakes the head');
    assert.deepEqual(b.fifo('KLX'), { head: '1', next: '3', waiting: 2, waitingAmount: (9n * KLX).toString() });

    b.deposit(KLX_TOKEN, 3n * KLX * KLX_SCALE, carol.address); // custody 8: the head fits
    assert.equal(b.action(1)?.owner, alice.address);
    assert.equal(b.action(1)?.hubAmount, (8n * KLX).toString());
    assert.equal(b.pending('KLX', 1)?.status, 'action');
    assert.equal(b.pending('KLX', 1)?.actionId, '1');
    assert.equal(b.pending('KLX', 2)?.status, 'waiting', 'nothing is left for bob yet');
    b.deposit(KLX_TOKEN, 1n * KLX * KLX_SCALE, carol.address);
    assert.equal(b.action(2)?.owner, bob.address);
    assert.deepEqual(b.fifo('KLX'), { head: '3', next: '3', waiting: 0, waitingAmount: '0' });
    assert.deepEqual(b.custody('KLX'), { held: 9n * KLX, pendingOut: 9n * KLX });
  });

  it('a large head blocks later transfers of the same asset only', () => {
    withdraw(alice, 50n * KLX);
    b.deposit('native', 1000n, carol.address);
    withdraw(bob, 400n, 'ETH');
    assert.equal(b.action(1)?.hubAsset, 'ETH', 'ETH leaves at once while the KLX head waits');
    assert.equal(b.fifo('KLX')?.waiting, 1);
  });

  it('the owner cancels a waiting transfer and is refunded at once; the next one moves up', () => {
    withdraw(alice, 8n * KLX);
    withdraw(bob, 1n * KLX);
    b.rejects(bob, 'withdraw-cancel', { chain: 'ethereum', asset: 'KLX', seq: '1' }, 'NOT_OWNER');
    b.rejects(alice, 'withdraw-cancel', { chain: 'ethereum', asset: 'KLX', seq: '9' }, 'NOT_PENDING');
    b.rejects(alice, 'withdraw-cancel', { chain: 'ethereum', asset: 'ETH', seq: '1' }, 'NOT_PENDING');
    b.rejects(alice, 'withdraw-cancel', { chain: 'tezos', asset: 'KLX', seq: '1' }, 'UNKNOWN_CHAIN');
    assert.equal(b.balance(alice, 'KLX'), 92n * KLX, 'refused cancels change nothing');

    b.append(alice, 'withdraw-cancel', { chain: 'ethereum', asset: 'KLX', seq: '1' });
    assert.equal(b.balance(alice, 'KLX'), 100n * KLX, 'refunded exactly once, at once');
    assert.equal(b.pending('KLX', 1)?.status, 'cancelled');
    assert.equal(b.action(1)?.owner, bob.address, "bob's transfer became action 1 as soon as the head left");
    b.rejects(alice, 'withdraw-cancel', { chain: 'ethereum', asset: 'KLX', seq: '1' }, 'NOT_PENDING');
    const err = b.rejects(bob, 'withdraw-cancel', { chain: 'ethereum', asset: 'KLX', seq: '2' }, 'NOT_PENDING');
    assert.match(err.message, /action 1/);
    assert.equal(b.balance(alice, 'KLX'), 100n * KLX);
    assert.equal(b.balance(bob, 'KLX'), 99n * KLX);
  });

  it('a skipped action refunds its owner and its reservation releases waiting transfers', () => {
    withdraw(alice, 5n * KLX); // action 1 takes all custody
    withdraw(bob, 2n * KLX); // waits
    b.sign(1);
    b.append(b.approvers[0]!, 'override-propose', { chain: 'ethereum', actionId: '1', kind: 'skip' });
    b.append(b.approvers[1]!, 'override-confirm', { chain: 'ethereum', actionId: '1' });
    b.append(b.producer, 'override-confirm', { chain: 'ethereum', actionId: '1' });
    assert.equal(b.fifo('KLX')?.waiting, 1, 'the reservation holds until the no-op is attested');
    b.executed(1, b.sign(1, `0x${'77'.repeat(32)}`));
    assert.equal(b.action(1)?.status, 'skipped');
    assert.equal(b.balance(alice, 'KLX'), 100n * KLX);
    assert.equal(b.action(2)?.owner, bob.address);
  });

  it('a claimable deposit stays reserved for its claim or return; a return does not reserve it twice', () => {
    b.deposit(KLX_TOKEN, 2n * KLX * KLX_SCALE, 'not-a-hub-address');
    assert.deepEqual(b.custody('KLX'), { held: 7n * KLX, pendingOut: 2n * KLX });
    withdraw(alice, 6n * KLX);
    assert.equal(b.fifo('KLX')?.waiting, 1, 'custody backing the claimable deposit is not available');
    b.append(b.approvers[0]!, 'return-deposit', { chain: 'ethereum', eventId: '2' });
    b.append(b.approvers[1]!, 'return-deposit', { chain: 'ethereum', eventId: '2' });
    assert.equal(b.action(1)?.returnOf?.eventId, '2');
    assert.deepEqual(b.custody('KLX'), { held: 7n * KLX, pendingOut: 2n * KLX });
  });
});

describe('custody balance sync', () => {
  let b: LedgerBridge;
  const treasury = treasuryAddress(PREFIX);
  const syncRecord = () => b.record<CustodySyncRecord>(keys.custodySync('ethereum', 'KLX'));
  const item = (over: Partial<{ asset: string; balance: string; floor: string; blockHeight: string }>) => ({
    chain: 'ethereum',
    items: [{ asset: KLX_TOKEN, blockHeight: '10', blockHash: `0x${'0a'.repeat(32)}`, balance: '0', floor: '0', ...over }],
  });

  beforeEach(() => {
    b = new LedgerBridge([alice, bob]);
    b.deposit(KLX_TOKEN, 5n * KLX * KLX_SCALE, carol.address);
  });

  it('a top-up attested by the listener quorum credits the treasury once and releases waiting transfers', () => {
    b.append(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: (7n * KLX).toString(), recipient: RECIPIENT });
    const floor = 5n * KLX * KLX_SCALE;
    b.sync(KLX_TOKEN, 10n, floor + 3n * KLX * KLX_SCALE, floor, 1);
    assert.equal(b.balance(treasury, 'KLX'), 0n, 'one listener is not a quorum');
    b.sync(KLX_TOKEN, 10n, floor + 3n * KLX * KLX_SCALE, floor, 2);
    assert.equal(b.balance(treasury, 'KLX'), 3n * KLX);
    assert.equal(b.action(1)?.owner, alice.address, 'custody grew: the waiting transfer left the FIFO');
    assert.deepEqual(b.custody('KLX'), { held: 8n * KLX, pendingOut: 7n * KLX });
    // The same surplus read again later is not a new top-up; a third listener's late vote changes nothing.
    b.sync(KLX_TOKEN, 20n, floor + 3n * KLX * KLX_SCALE, floor, 2);
    b.append(b.listeners[2]!, 'custody-sync', item({ balance: (floor + 3n * KLX * KLX_SCALE).toString(), floor: floor.toString() }));
    assert.equal(b.balance(treasury, 'KLX'), 3n * KLX);
    assert.equal(syncRecord()?.height, '20');
    assert.equal(b.halted(), null);
  });

  it('dust below one hub unit is credited only once it adds up', () => {
    b.sync('native', 10n, 5n, 0n);
    assert.equal(b.balance(treasury, 'ETH'), 5n, 'ETH has 18 decimals on both sides');
    b.sync(KLX_TOKEN, 10n, 5n * KLX * KLX_SCALE + KLX_SCALE / 2n, 5n * KLX * KLX_SCALE);
    assert.equal(b.balance(treasury, 'KLX'), 0n);
    b.sync(KLX_TOKEN, 11n, 5n * KLX * KLX_SCALE + KLX_SCALE, 5n * KLX * KLX_SCALE);
    assert.equal(b.balance(treasury, 'KLX'), 1n);
  });

  it('custody that falls without an attested withdrawal halts the chain', () => {
    const floor = 5n * KLX * KLX_SCALE;
    b.sync(KLX_TOKEN, 10n, floor - 1n, floor);
    assert.match(b.halted() ?? '', /without an attested withdrawal/);
    b.rejects(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: '1', recipient: RECIPIENT }, 'CHAIN_HALTED');
    b.rejects(b.listeners[0]!, 'custody-sync', item({ blockHeight: '11', balance: floor.toString(), floor: floor.toString() }), 'CHAIN_HALTED');
  });

  it('refuses syncs by non-listeners, of assets that are not locked, and conflicting votes', () => {
    b.rejects(alice, 'custody-sync', item({}), 'NOT_AUTHORIZED');
    b.rejects(b.listeners[0]!, 'custody-sync', item({ asset: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0' }), 'UNSUPPORTED_ASSET');
    // As a node receives it: decoding checks the body against its schema.
    assert.throws(() => decodeTx(b.f.sign(b.listeners[0]!, 'custody-sync', item({ balance: 'lots' })).encoded), (e: unknown) => e instanceof TxRejected && e.code === 'TX_MALFORMED');
    b.f.unuse(b.listeners[0]!);
    b.append(b.listeners[0]!, 'custody-sync', item({ balance: '7' }));
    b.rejects(b.listeners[0]!, 'custody-sync', item({ balance: '8' }), 'CONFLICTING_ATTESTATION');
    assert.equal(b.balance(treasury, 'KLX'), 0n);
  });

  it('a listener keeps a bounded number of open votes', () => {
    for (let h = 1; h <= 20; h++) b.append(b.listeners[0]!, 'custody-sync', item({ blockHeight: String(h), balance: String(h) }));
    assert.equal(Object.keys(syncRecord()?.votes ?? {}).length, 8);
    assert.deepEqual(Object.keys(syncRecord()?.votes ?? {}).map(Number).sort((x, y) => x - y), [13, 14, 15, 16, 17, 18, 19, 20]);
  });
});
