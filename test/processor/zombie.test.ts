/**
 * Zombie leader: freeze the leader (SIGSTOP), terminate its database session, let a
 * standby produce blocks, then resume the old leader (SIGCONT). It must write and
 * acknowledge nothing: a request it received while frozen fails, later ones are
 * refused, and every block after the take-over is the new leader's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditChannel } from '../../relayer/audit/audit.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { ApiError, ChannelClient } from '../../relayer/node/client.ts';
import { transfer, user } from '../helpers/channel.ts';
import { ProcessorCluster } from '../helpers/cluster.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('zombie leader', () => {
  let db: TestDatabase;
  let cluster: ProcessorCluster;
  const [alice, bob] = [user('zalice'), user('zbob')];

  before(async () => {
    db = await createTestDatabase('zombie');
    cluster = new ProcessorCluster(db, [alice, bob]);
    await cluster.add('first');
    await cluster.leader(); // 'first' leads before the standby exists
    await cluster.add('second');
  });
  after(async () => {
    await cluster?.stop();
    await db?.drop();
  });

  it('a frozen leader whose session was terminated writes and acknowledges nothing after it resumes', async () => {
    const [old, standby] = cluster.nodes as [NonNullable<(typeof cluster.nodes)[0]>, NonNullable<(typeof cluster.nodes)[1]>];
    assert.equal((await cluster.leader()).name, old.name);
    const oldClient = new ChannelClient(old.url, 'bridge');
    for (let n = 0n; n < 5n; n++) await oldClient.submit(transfer(alice, bob.address, 1n, n));

    process.kill(old.proc.pid, 'SIGSTOP');
    // A request reaches the frozen leader's socket; it is answered only after SIGCONT.
    const inFlight = transfer(alice, bob.address, 1n, 5n);
    const frozenAnswer = oldClient.submit(inFlight).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const { rows: lockers } = await db.pool.query<{ pid: number }>(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    assert.equal(lockers.length, 1, 'exactly one session holds the construction lock');
    await db.pool.query('SELECT pg_terminate_backend($1)', [lockers[0]?.pid]);

    assert.equal((await cluster.leader(30_000, [standby])).name, standby.name);
    const takeover = await db.pool.query<{ h: bigint }>("SELECT max(height) AS h FROM hub.blocks WHERE channel = 'bridge'");
    const takeoverHeight = takeover.rows[0]?.h ?? 0n;
    const standbyClient = new ChannelClient(standby.url, 'bridge');
    const bobStart = 0n;
    for (let n = bobStart; n < bobStart + 5n; n++) await standbyClient.submit(transfer(bob, alice.address, 1n, n));

    process.kill(old.proc.pid, 'SIGCONT');
    const answer = await frozenAnswer;
    assert.equal(answer.ok, false, 'the zombie acknowledged a transaction');
    assert.ok(answer.e instanceof ApiError && answer.e.retriable, `the zombie's refusal is retriable: ${String(answer.e)}`);

    // After resuming it refuses new work (it is a standby again, blocked on the lock).
    await assert.rejects(oldClient.submit(transfer(bob, alice.address, 1n, 5n)), (e) => e instanceof ApiError && e.code === 'NOT_LEADER');
    // The in-flight transaction can be retried on the real leader and lands exactly once.
    const retried = await cluster.submitUntilAcked(inFlight);
    assert.equal(retried.duplicate, false);

    const { rows } = await db.pool.query<{ height: bigint; written_by: string; tx_id: Buffer }>(
      "SELECT height, written_by, tx_id FROM hub.blocks WHERE channel = 'bridge' AND height > $1 ORDER BY height",
      [takeoverHeight],
    );
    assert.ok(rows.length >= 6);
    for (const r of rows) assert.equal(r.written_by, standby.name, `block ${r.height} written by ${r.written_by}`);
    assert.equal(rows.filter((r) => toHex(r.tx_id) === toHex(inFlight.id)).length, 1);
    const report = await auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' });
    assert.equal(report.transactions.transfer, 11);
  });
});
