/**
 * Redis for tests: a random key prefix per test on the shared server (deleted after),
 * or a private redis-server child process for tests that must FLUSHALL.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './processes.ts';

export const REDIS_HOST = process.env.REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);

export const randomPrefix = (label: string): string => `klx-test-${label}-${randomBytes(4).toString('hex')}`;

/** Deletes every key under `prefix:` on a server (never the whole server). */
export async function deletePrefix(prefix: string, host = REDIS_HOST, port = REDIS_PORT): Promise<number> {
  const r = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return deleted;
}

export interface OwnedRedis {
  host: string;
  port: number;
  pid: number;
  client: Redis;
  stop(): Promise<void>;
}

/** A redis-server owned by the test (no persistence), killed by its PID in stop(). */
export async function startOwnedRedis(): Promise<OwnedRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid ?? -1;
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // refused until the server listens; waitFor retries
  try {
    await waitFor('redis-server to answer', async () => {
      if (client.status !== 'ready') await client.connect().catch(() => undefined);
      return (await client.ping()) === 'PONG';
    }, 10_000);
  } catch (e) {
    if (pid > 0) process.kill(pid, 'SIGKILL');
    throw e;
  }
  return {
    host: '127.0.0.1',
    port,
    pid,
    client,
    async stop() {
      client.disconnect();
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      await exited;
    },
  };
}
