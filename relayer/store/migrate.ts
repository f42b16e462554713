/**
 * Applies migrations/*.sql to one schema: all pending files in one transaction, under
 * a transaction-scoped advisory lock, recorded in `<schema>.schema_migrations`.
 * Migrations are append-only: a file whose content changed after it was applied is
 * refused (its SHA-256 is recorded), and so is a gap in the numbering.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { KlxError } from '../ledger/errors.ts';
import { schemaIdent } from './db.ts';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  sha256: string;
}

export class MigrationError extends KlxError {
  constructor(message: string) {
    super('MIGRATION_INVALID', message, false);
  }
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  return files.map((name, i) => {
    const m = /^(\d{4})_[a-z0-9_]+\.sql$/.exec(name);
    if (!m?.[1]) throw new MigrationError(`migration file name "${name}" must look like 0001_name.sql`);
    const version = Number(m[1]);
    if (version !== i + 1) throw new MigrationError(`migrations must be numbered 0001, 0002, ... without gaps (found ${name})`);
    const sql = readFileSync(join(dir, name), 'utf8');
    return { version, name, sql, sha256: createHash('sha256').update(sql).digest('hex') };
  });
}

/** Returns the names of the migrations it applied (empty when the schema was current). */
export async function migrate(client: pg.ClientBase, schema: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const s = schemaIdent(schema);
  const files = readMigrations(dir);
  const applied: string[] = [];
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('klx-migrations:' || $1, 0))`, [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`SET LOCAL search_path TO ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number; name: string; sha256: string }>(
      'SELECT version, name, sha256 FROM schema_migrations ORDER BY version',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const r of rows) {
      if (!files.some((f) => f.version === r.version)) throw new MigrationError(`applied migration ${r.name} is missing from ${dir}`);
    }
    for (const f of files) {
      const prior = done.get(f.version);
      if (prior) {
        if (prior.sha256 !== f.sha256) throw new MigrationError(`migration ${f.name} changed after it was applied; add a new migration instead`);
        continue;
      }
      await client.query(f.sql);
      await client.query('INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)', [f.version, f.name, f.sha256]);
      applied.push(f.name);
    }
    await client.query('COMMIT');
    return applied;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
