/**
 * The ERC20 → native KLX migration on the bridge channel (issue 6; ADR 0017): an attested
 * deposit opens a migration instead of a credit; the channel votes yes only within the cap
 * and the limits; commit mints, abort refunds to the refund address; the reverse path burns.
 * After every block: native units from migration = custody held for it, and the hub's total
 * native supply = premint + that.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { migrationKeys, type MigrationRecord, type MigrationSupply } from '../../relayer/ledger/migration-rules.ts';
import { keys, type EventRecord } from '../../relayer/ledger/bridge-state.ts';
import { user } from '../helpers/channel.ts';
import { KLX_SCALE, KLX_TOKEN, LedgerBridge, RECIPIENT } from '../helpers/ledger-bridge.ts';

const alice = user('m-alice');
const carol = user('m-carol');
const coordinator = user('m-coordinator');
const KLX = 10n ** 9n;
const PREMINT = 100n * KLX; // genesis: alice holds 100 KLX

describe('ERC20 → native KLX migration: bridge channel rules', () => {
  let b: LedgerBridge;
  let seq = 0;
  let returned = 0n;
  const configure = (o: { cap?: bigint; perTransfer?: bigint; per24h?: bigint } = {}) =>
    b.append(b.producer, 'migration-config', {
      chain: 'ethereum', hubAsset: 'KLX', coordinator: coordinator.address,
      cap: (o.cap ?? PREMINT + 1000n * KLX).toString(), premint: PREMINT.toString(),
      perTransfer: (o.perTransfer ?? 50n * KLX).toString(), per24h: (o.per24h ?? 100n * KLX).toString(),
    });
  const deposit = (klx: bigint, to = carol.address) => b.deposit(KLX_TOKEN, klx * KLX * KLX_SCALE, to);
  const stepBody = (eventId: string, s = seq) => ({ chain: 'ethereum', eventId, id: { epoch: '1', seq: String(s) } });
  const migration = (eventId: string) => b.record<MigrationRecord>(migrationKeys.migration('ethereum', eventId));
  const supply = () => b.record<MigrationSupply>(migrationKeys.supply('ethereum'));
  const run = (eventId: string): void => {
    seq++;
    b.append(coordinator, 'migrate-prepare', stepBody(eventId));
    b.append(coordinator, 'migrate-commit', stepBody(eventId));
  };
  /** The invariant, from the hub's own balances: native units outside genesis = custody held for migration. */
  const checkInvariant = () => {
    const c = b.custody('KLX');
    const waiting = BigInt(b.fifo('KLX')?.waitingAmount ?? '0');
    const held = c.held - c.pendingOut - waiting;
    assert.equal(held, BigInt(supply()?.minted ?? '0') - returned, 'native minted by migration − returned = ERC20 held for migration');
    let native = 0n;
    for (const e of b.chain.state.balanceEntries()) if (e.asset === 'KLX') native += e.amount;
    assert.equal(native, PREMINT + held, 'the hub holds exactly premint + migrated native KLX');
  };

  beforeEach(() => {
    b = new LedgerBridge([alice]);
    seq = 0;
    returned = 0n;
    configure();
  });

  it('an attested deposit opens a migration, not a credit; prepare and commit mint once; a repeated delivery mints nothing more', () => {
    const ev = deposit(3n);
    assert.equal(b.balance(carol, 'KLX'), 0n, 'not credited directly');
    assert.equal(migration(ev)?.status, 'attested');
    assert.equal(b.record<EventRecord>(keys.event('ethereum', ev))?.outcome, 'migration');
    checkInvariant();
    b.rejects(alice, 'migrate-prepare', stepBody(ev, 1), 'NOT_AUTHORIZED');
    b.rejects(coordinator, 'migrate-commit', stepBody(ev, 1), 'NOT_PREPARED');
    b.rejects(coordinator, 'migrate-prepare', stepBody('99', 1), 'NO_MIGRATION'); // no attested deposit: the coordinator cannot mint
    run(ev);
    assert.equal(b.balance(carol, 'KLX'), 3n * KLX);
    assert.equal(supply()?.minted, (3n * KLX).toString());
    checkInvariant();
    // The same deposit delivered again by every listener, and the coordinator's steps repeated.
    for (const l of b.listeners) b.append(l, 'attest', { chain: 'ethereum', items: [{ kind: 'deposit', eventId: ev, custody: '0x5FbDB2315678afecb367f032d93F642f64180aa3', txHash: `0x${ev.padStart(64, '0')}`, index: 0, blockHeight: ev, blockHash: `0x${'ab'.repeat(32)}`, asset: KLX_TOKEN, amount: (3n * KLX * KLX_SCALE).toString(), recipient: carol.address, refundTo: RECIPIENT }] });
    b.rejects(coordinator, 'migrate-prepare', stepBody(ev, 1), 'ALREADY_COMMITTED');
    b.rejects(coordinator, 'migrate-commit', stepBody(ev, 1), 'ALREADY_COMMITTED');
    assert.equal(b.balance(carol, 'KLX'), 3n * KLX, 'minted once');
    checkInvariant();
  });

  it('over the cap: the channel votes no, the abort creates a refund action to the refund address, and the tombstone refuses a later prepare', () => {
    configure({ cap: PREMINT + 5n * KLX });
    run(deposit(3n));
    const ev = deposit(3n);
    seq++;
    b.rejects(coordinator, 'migrate-prepare', stepBody(ev), 'MIGRATION_CAP');
    b.append(coordinator, 'migrate-abort', stepBody(ev));
    const m = migration(ev);
    assert.equal(m?.status, 'aborted');
    const action = b.action(m?.refundAction ?? '0');
    assert.equal(action?.recipient, RECIPIENT);
    assert.equal(action?.chainAmount, (3n * KLX * KLX_SCALE).toString());
    assert.deepEqual(action?.returnOf, { source: 'migration', eventId: ev });
    b.rejects(coordinator, 'migrate-prepare', stepBody(ev), 'TRANSFER_ABORTED');
    b.rejects(coordinator, 'migrate-abort', stepBody(ev), 'ALREADY_ABORTED');
    checkInvariant();
    // The refund settles like any release: custody and reservation drop together.
    const held = b.custody('KLX').held;
    b.executed(action?.actionId ?? '0', b.sign(action?.actionId ?? '0'));
    assert.equal(b.custody('KLX').held, held - 3n * KLX);
    checkInvariant();
  });

  it('limits: per transfer, and per rolling 24 h of block time (an aborted prepare frees its share)', () => {
    configure({ perTransfer: 4n * KLX, per24h: 6n * KLX });
    const big = deposit(5n);
    seq++;
    b.rejects(coordinator, 'migrate-prepare', stepBody(big), 'MIGRATION_LIMIT');
    run(deposit(4n));
    const ev = deposit(3n);
    seq++;
    b.rejects(coordinator, 'migrate-prepare', stepBody(ev), 'MIGRATION_LIMIT'); // 4 + 3 > 6 within 24 h
    const small = deposit(2n);
    seq++;
    b.append(coordinator, 'migrate-prepare', stepBody(small));
    b.append(coordinator, 'migrate-abort', stepBody(small)); // frees its 2 again
    run(deposit(2n));
    checkInvariant();
    b.chain.advanceClock(25n * 3_600_000n);
    b.append(alice, 'transfer', { to: alice.address, asset: 'KLX', amount: 1n, memo: 'a day passes' }); // the rules read the previous block's time
    seq++;
    b.append(coordinator, 'migrate-prepare', stepBody(ev)); // a day later the window is empty again
    b.append(coordinator, 'migrate-commit', stepBody(ev));
    assert.equal(b.balance(carol, 'KLX'), 9n * KLX);
    checkInvariant();
  });

  it('a malformed hub recipient is a no vote; bad migration config is refused', () => {
    const ev = deposit(1n, 'klxd1broken');
    seq++;
    b.rejects(coordinator, 'migrate-prepare', stepBody(ev), 'BAD_ADDRESS');
    b.append(coordinator, 'migrate-abort', stepBody(ev));
    checkInvariant();
    b.rejects(alice, 'migration-config', { chain: 'ethereum', hubAsset: 'KLX', coordinator: coordinator.address, cap: '10', premint: '0', perTransfer: '1', per24h: '1' }, 'NOT_AUTHORIZED');
    b.rejects(b.producer, 'migration-config', { chain: 'ethereum', hubAsset: 'KLX', coordinator: coordinator.address, cap: '10', premint: '11', perTransfer: '1', per24h: '1' }, 'BAD_AMOUNT');
    b.rejects(b.producer, 'migration-config', { chain: 'ethereum', hubAsset: 'KLX', coordinator: coordinator.address, cap: '0', premint: '0', perTransfer: '1', per24h: '1' }, 'BAD_AMOUNT');
    b.rejects(b.producer, 'migration-config', { chain: 'nowhere', hubAsset: 'KLX', coordinator: coordinator.address, cap: '10', premint: '0', perTransfer: '1', per24h: '1' }, 'UNKNOWN_CHAIN');
  });

  it('reverse path: withdrawing native KLX to Ethereum burns it on the hub and releases ERC20 from migration custody', () => {
    run(deposit(10n));
    const before = b.custody('KLX').held;
    b.append(carol, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: (4n * KLX).toString(), recipient: RECIPIENT });
    returned += 4n * KLX;
    assert.equal(b.balance(carol, 'KLX'), 6n * KLX);
    checkInvariant();
    const id = b.nextActionId() - 1n;
    assert.equal(b.action(id)?.chainAmount, (4n * KLX * KLX_SCALE).toString());
    b.executed(id, b.sign(id));
    assert.equal(b.custody('KLX').held, before - 4n * KLX);
    checkInvariant();
  });
});
