/** Migrations: applied once, in one transaction under an advisory lock, append-only. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrate, MIGRATIONS_DIR, MigrationError, readMigrations } from '../../relayer/store/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/** The file name a new migration would take `ahead` places after the last one. */
const nextName = (name: string, ahead = 1) => `${String(readMigrations().length + ahead).padStart(4, '0')}_${name}.sql`;

describe('migrations', () => {
  let db: TestDatabase;
  before(async () => (db = await createTestDatabase('migrate')));
  after(async () => db?.drop());

  async function run(schema: string, dir = MIGRATIONS_DIR) {
    const c = await db.pool.connect();
    try {
      return await migrate(c, schema, dir);
    } finally {
      c.release();
    }
  }

  it('concurrent runners apply each migration exactly once', async () => {
    const results = await Promise.all([run('concurrent'), run('concurrent'), run('concurrent')]);
    assert.equal(results.filter((r) => r.length > 0).length, 1);
    const { rows } = await db.pool.query('SELECT version FROM concurrent.schema_migrations');
    assert.equal(rows.length, results.flat().length);
    assert.deepEqual(await run('concurrent'), []);
  });

  it('refuses an applied migration whose file changed, and applies nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klx-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    await run('edited', dir);
    appendFileSync(join(dir, '0001_channel_ledger.sql'), '\n-- edited later\n');
    writeFileSync(join(dir, nextName('extra')), 'CREATE TABLE extra (x int);');
    await assert.rejects(run('edited', dir), (e) => e instanceof MigrationError && /changed after it was applied/.test(e.message));
    const { rows } = await db.pool.query<{ t: string | null }>("SELECT to_regclass('edited.extra')::text AS t");
    assert.equal(rows[0]?.t, null, 'the new migration was not applied either');
  });

  it('rolls back a failing migration completely', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klx-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(join(dir, nextName('broken')), 'CREATE TABLE half (x int); SELECT no_such_function();');
    await assert.rejects(run('broken', dir));
    const { rows } = await db.pool.query("SELECT to_regclass('broken.half') AS half, to_regclass('broken.blocks') AS blocks");
    assert.deepEqual(rows[0], { half: null, blocks: null });
  });

  it('refuses gaps in the numbering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klx-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(join(dir, nextName('gap', 2)), 'SELECT 1;');
    await assert.rejects(run('gap', dir), (e) => e instanceof MigrationError && /without gaps/.test(e.message));
  });

  it('the block table refuses a fork: a second block at a height, or a block whose parent is not stored', async () => {
    await run('forks');
    const ins = (h: number, hash: number, parent: number | null, tx: number) =>
      db.pool.query(
        `INSERT INTO forks.blocks (channel, height, hash, parent_hash, timestamp_ms, tx_id, tx_type, tx_sender, body, signature)
         VALUES ('c', $1, $2, $3, 0, $4, 't', 's', '\\x00', '\\x00')`,
        [h, Buffer.alloc(32, hash), parent === null ? null : Buffer.alloc(32, parent), Buffer.alloc(32, tx)],
      );
    await ins(0, 1, null, 1);
    await ins(1, 2, 1, 2);
    await assert.rejects(ins(1, 3, 1, 3), /duplicate key/);
    await assert.rejects(ins(2, 4, 9, 4), /foreign key/);
    await assert.rejects(ins(2, 5, 2, 2), /duplicate key/, 'the same transaction twice');
  });
});
