/** SchemaLock: one role process per schema, with a grace for a predecessor's closing session. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaInUseError, SchemaLock } from '../../relayer/store/schema-lock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('SchemaLock', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('schema_lock');
  });
  after(async () => {
    await db.drop();
  });

  it('refuses a second holder of the same schema with SCHEMA_IN_USE, and admits another schema', async () => {
    const first = await SchemaLock.acquire(db.url, 'listener_a');
    try {
      await assert.rejects(SchemaLock.acquire(db.url, 'listener_a', { waitMs: 300, pollMs: 50 }), (e: unknown) => {
        assert.ok(e instanceof SchemaInUseError);
        assert.equal(e.code, 'SCHEMA_IN_USE');
        assert.equal(e.retriable, false);
        assert.match(e.message, /listener_a/);
        return true;
      });
      const other = await SchemaLock.acquire(db.url, 'listener_b', { waitMs: 0 });
      await other.release();
    } finally {
      await first.release();
    }
    const again = await SchemaLock.acquire(db.url, 'listener_a', { waitMs: 0 });
    await again.release();
  });

  it('waits for a holder that releases within the grace', async () => {
    const first = await SchemaLock.acquire(db.url, 'approver_a');
    const timer = setTimeout(() => void first.release(), 300);
    try {
      const t0 = Date.now();
      const second = await SchemaLock.acquire(db.url, 'approver_a', { waitMs: 5000, pollMs: 50 });
      assert.ok(Date.now() - t0 >= 250, 'it waited for the first holder');
      await second.release();
    } finally {
      clearTimeout(timer);
      await first.release();
    }
  });

  it('reports a lost session once, and not after its own release', async () => {
    const reasons: string[] = [];
    const lock = await SchemaLock.acquire(db.url, 'submitter_a', { onLost: (r) => reasons.push(r) });
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    assert.equal(rows.length, 1, 'one advisory lock held');
    await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = () => (reasons.length > 0 ? resolve() : Date.now() - started > 10_000 ? reject(new Error('no loss reported')) : setTimeout(poll, 20));
      poll();
    });
    await new Promise((r) => setTimeout(r, 200)); // the session's 'end' follows its 'error'
    assert.equal(reasons.length, 1);
    await lock.release();
    const quiet: string[] = [];
    const other = await SchemaLock.acquire(db.url, 'submitter_a', { onLost: (r) => quiet.push(r) });
    await other.release();
    assert.deepEqual(quiet, []);
  });

  it('does not report a loss for a lock it never held (the session failed while waiting)', async () => {
    const holder = await SchemaLock.acquire(db.url, 'listener_w');
    const reasons: string[] = [];
    try {
      const waiting = SchemaLock.acquire(db.url, 'listener_w', { waitMs: 20_000, pollMs: 50, onLost: (r) => reasons.push(r) });
      const waiter = await (async () => {
        for (let i = 0; i < 200; i++) {
          const { rows } = await db.pool.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_try_advisory_lock%' AND pid <> pg_backend_pid()
               AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`,
          );
          if (rows[0]) return rows[0].pid;
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error('the waiting session never showed');
      })();
      await db.pool.query('SELECT pg_terminate_backend($1)', [waiter]);
      await assert.rejects(waiting, (e: unknown) => !(e instanceof SchemaInUseError));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(reasons, []);
    } finally {
      await holder.release();
    }
  });
});
