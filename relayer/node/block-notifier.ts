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
  private client: pg.Client | null = null;
  private closed = false;

  constructor(private readonly databaseUrl: string) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = await connectClient(this.databaseUrl);
    client.on('error', () => undefined);
    client.on('notification', (n) => {
      if (n.channel === BLOCKS_NOTIFY_CHANNEL && n.payload) this.emitter.emit(n.payload.slice(0, n.payload.lastIndexOf(':')));
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

  /** Resolves at the next block of (schema, channel), or after `timeoutMs`. */
  waitForBlock(schema: string, channel: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const key = `${schema}:${channel}`;
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
