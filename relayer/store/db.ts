/** PostgreSQL plumbing shared by every store: pools, identifiers, and the minimal query surface. */
import pg from 'pg';

export type Queryable = Pick<pg.ClientBase, 'query'>;

// bigint columns come back as strings by default; keep them exact as bigint.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => BigInt(v));

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A validated, quoted schema name (never interpolate unvalidated names into SQL). */
export function schemaIdent(schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new RangeError(`invalid schema name "${schema}"`);
  return `"${schema}"`;
}

/**
 * Every session plans each execution with its actual parameters. Without this, the
 * foreign-key check of `blocks` (a cached plan inside PostgreSQL, made once per session
 * while the table is still tiny) keeps a sequential scan for the life of the session,
 * and block writes slow down as the chain grows (measured: 66 -> 609 ms per 128-block
 * batch over 19k blocks; steady at 15-20 ms with this setting). See docs/adr/0006.
 */
const SESSION_OPTIONS = '-c plan_cache_mode=force_custom_plan';

export function createPool(connectionString: string, max = 8): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, options: SESSION_OPTIONS, keepAlive: true });
  // An idle client that dies (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export async function connectClient(connectionString: string): Promise<pg.Client> {
  // TCP keepalive: a standby waiting on the lock, or a leader, notices a dead peer within minutes, not hours.
  const client = new pg.Client({ connectionString, options: SESSION_OPTIONS, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  await client.connect();
  return client;
}

/** Hides credentials in a connection string before it reaches a log or an error. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*)(:[^@]*)?@/, (_m, user: string) => `//${user}:***@`);
}
