/**
 * SchemaLock: one role process per schema. A listener's cursor, memory of what it attested
 * and halt flag, an approver's memory of what it signed, and every role's verified hub copy
 * assume a single writer; two processes started on one schema (the same key twice, or one
 * --schema given twice) would write over each other. Each role therefore holds a
 * session-level PostgreSQL advisory lock on its schema, on a connection of its own, for its
 * whole life. A second process waits a short grace (a restarted role's predecessor may
 * still be closing its session) and then refuses to start with SCHEMA_IN_USE.
 */
import type pg from 'pg';
import { KlxError } from '../ledger/errors.ts';
import { connectClient } from './db.ts';

export class SchemaInUseError extends KlxError {
  constructor(schema: string, waitedMs: number) {
    super(
      'SCHEMA_IN_USE',
      `another process holds schema ${schema} (waited ${waitedMs} ms): each role process needs its own schema (its own key, or its own --schema)`,
      false,
      { schema },
    );
  }
}

export interface SchemaLockOptions {
  /** How long to wait for a predecessor's session to end before refusing (default 10 s). */
  waitMs?: number;
  pollMs?: number;
  /** Called once if the lock's session ends or fails while held: the process no longer owns its schema. */
  onLost?: (reason: string) => void;
}

export class SchemaLock {
  private held = false;
  private ending: Promise<void> | null = null;

  private constructor(private readonly client: pg.Client) {}

  /** Takes the schema's lock, or throws SchemaInUseError once `waitMs` has passed. */
  static async acquire(databaseUrl: string, schema: string, o: SchemaLockOptions = {}): Promise<SchemaLock> {
    const waitMs = o.waitMs ?? 10_000;
    const client = await connectClient(databaseUrl);
    const lock = new SchemaLock(client);
    let lost = false;
    // Only a lock that was held can be lost; a failure while waiting is acquire's own error.
    const onLost = (reason: string) => {
      if (lost || !lock.held || lock.ending) return;
      lost = true;
      o.onLost?.(reason);
    };
    client.on('error', (e) => onLost(`the schema lock's database session failed: ${e.message}`));
    client.on('end', () => onLost("the schema lock's database session ended"));
    try {
      const started = Date.now();
      for (;;) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`klx-role-schema:${schema}`]);
        if (rows[0]?.ok) break;
        if (Date.now() - started >= waitMs) throw new SchemaInUseError(schema, waitMs);
        await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
      }
    } catch (e) {
      await lock.release();
      throw e;
    }
    lock.held = true;
    return lock;
  }

  /** Ends the session, which frees the lock; resolves once it has ended (every call). */
  release(): Promise<void> {
    return (this.ending ??= this.client.end().catch(() => undefined));
  }
}
