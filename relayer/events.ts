/**
 * Typed events. The core emits these; logging (pino) and metrics (prom-client)
 * subscribe from outside (relayer/observability), so core code never logs directly.
 */
import { EventEmitter } from 'node:events';

export interface ProcessorEvents {
  'leader-elected': { channel: string; instance: string; height: bigint };
  'leadership-lost': { channel: string; instance: string; reason: string };
  'blocks-committed': { channel: string; fromHeight: bigint; toHeight: bigint; count: number; writeMs: number; /** Distinct transaction types in the batch. */ txTypes: readonly string[] };
  'tx-rejected': { channel: string; code: string };
  /** Campaigning or taking over failed (database unreachable, ...); it retries. */
  'campaign-error': { channel: string; instance: string; message: string };
}

export interface FollowerEvents {
  'block-verified': { channel: string; height: bigint };
  halted: { channel: string; height: bigint; reason: string; message: string };
  'source-error': { channel: string; message: string };
}

type Listener<T> = (payload: T) => void;

export class TypedEmitter<E extends object> {
  private readonly emitter = new EventEmitter();
  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.on(event, listener);
    return this;
  }
  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.off(event, listener);
    return this;
  }
  protected emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    this.emitter.emit(event, payload);
  }
}

/**
 * Wakeup: lets a work loop sleep until something new happened (a commit, a verified block)
 * instead of polling, without missing what happened while it worked: read `seen` before
 * the work, then `wait(seen, ...)` returns at once if anything came since.
 */
export class Wakeup {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  get seen(): number {
    return this.count;
  }

  ring(): void {
    this.count++;
    for (const w of [...this.waiters]) w();
  }

  /** Resolves at the first ring after `seen` (at once if one came already), after `ms`, or on abort. */
  wait(seen: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.count !== seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done);
    });
  }
}
