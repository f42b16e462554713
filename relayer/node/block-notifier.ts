/**
 * BlockNotifier: one LISTEN connection per process that turns the processors' commit
 * notifications into in-process wake-ups for block streams. Missing a notification is
 * harmless: streams also poll.
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { connectClient } from '../store/db.ts';
import { BLOCKS_NOTIFY_CHANNEL } from '../store/channel-store.ts';

export class BlockNotifier {
  private readonly emitter = new EventEmitter();
  /** Notifications seen per `schema:channel`, so a waiter can tell it missed one. */
  private readonly versions = new Map<string, number>();
  private client: pg.Client | null = null;
  private closed = false;

  constructor(private readonly databaseUrl: string) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = await connectClient(this.databaseUrl);
    client.on('error', () => undefined);
    client.on('notification', (n) => {
      if (n.channel !== BLOCKS_NOTIFY_CHANNEL || !n.payload) return;
      const key = n.payload.slice(0, n.payload.lastIndexOf(':'));
      this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
      this.emitter.emit(key);
    });
    client.on('end', () => {
      if (!this.closed) this.reconnect();
    });
    await client.query(`LISTEN ${BLOCKS_NOTIFY_CHANNEL}`);
    this.client = client;
  }

  /** Keeps trying to LISTEN again (streams poll meanwhile). */
  private reconnect(delayMs = 500): void {
    setTimeout(() => {
      if (this.closed) return;
      this.start().catch(() => this.reconnect(Math.min(delayMs * 2, 10_000)));
    }, delayMs).unref();
  }

  /** How many commits of (schema, channel) this notifier has seen: pass it to `waitForBlock`. */
  version(schema: string, channel: string): number {
    return this.versions.get(`${schema}:${channel}`) ?? 0;
  }

  /**
   * Resolves at the next block of (schema, channel), or after `timeoutMs`; at once when a
   * block came after `seen` (a `version()` read before the caller last looked).
   */
  waitForBlock(schema: string, channel: string, timeoutMs: number, signal?: AbortSignal, seen?: number): Promise<void> {
    const key = `${schema}:${channel}`;
    if (seen !== undefined && (this.versions.get(key) ?? 0) !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(key, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.on(key, done);
      signal?.addEventListener('abort', done);
    });
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}
