/**
 * ActionQueue: one BullMQ queue per chain (`klx-actions-<chain>`), one job per signed
 * action (jobId `action-<id>`, so re-adding dedupes), one worker at concurrency 1.
 * A job is a wake-up, not a position: processing job n means "land everything up to n"
 * (and what is signed after it, a few transactions at most)
 * (ActionLander), so BullMQ moving a retried job behind later ones changes nothing on
 * the chain. Redis holds no truth: `reconcile()` re-adds a job for every signed, unsettled
 * id from the source (at start and periodically), which rebuilds the queues after Redis
 * lost everything. See docs/adr/0011-ordered-action-queue.md.
 */
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import { TypedEmitter } from '../events.ts';
import type { ActionLander } from './action-lander.ts';
import type { SignedActionSource } from './action-source.ts';
import { asKlxError } from './errors.ts';
import type { SubmitterEvents } from './events.ts';

export interface ActionQueueOptions {
  /** Redis connection options (BullMQ opens its own connections and reconnects by itself). */
  connection: ConnectionOptions;
  /** Redis key prefix of every queue (deployments sharing a Redis use different prefixes). */
  prefix: string;
  source: SignedActionSource;
  /** One lander per chain. */
  landers: readonly ActionLander[];
  /** Periodic reconcile (default 30 s; 0 turns it off). */
  reconcileIntervalMs?: number;
  /** Retry backoff of a job: doubling from base, capped (default 1 s, 60 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts per job (default 1e9: a retriable failure is retried until it lands). */
  attempts?: number;
}

export interface ActionJobData {
  chain: string;
  /** Decimal text: job data is JSON. */
  actionId: string;
}

/** Name of the custom backoff strategy: exponential, capped (BullMQ's built-in one is not capped). */
const BACKOFF = 'klx-capped-exponential';

const FORWARDED = ['submitted', 'rebroadcast', 'landed', 'reverted', 'dropped'] as const;

export const queueName = (chain: string): string => `klx-actions-${chain}`;
export const jobIdOf = (actionId: bigint): string => `action-${actionId}`; // BullMQ refuses purely numeric custom ids

interface ChainQueue {
  lander: ActionLander;
  queue: Queue<ActionJobData>;
  worker?: Worker<ActionJobData>;
  /** Set while jobs of the chain are failing; the first success promotes the delayed ones. */
  troubled: boolean;
}

export class ActionQueue extends TypedEmitter<SubmitterEvents> {
  private readonly chains = new Map<string, ChainQueue>();
  private readonly jobOptions: JobsOptions;
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<number> | undefined;
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: ActionQueueOptions) {
    super();
    this.jobOptions = {
      attempts: o.attempts ?? 1e9,
      backoff: { type: BACKOFF },
      // A landed job is gone, so a later reconcile (e.g. after a chain reorg) can add its id again.
      removeOnComplete: true,
      // Failed means non-retriable: kept, for the operator and so that it does not loop; start() retries it.
      removeOnFail: false,
    };
    for (const lander of o.landers) {
      if (this.chains.has(lander.chain)) throw new RangeError(`two landers for chain "${lander.chain}"`);
      const queue = new Queue<ActionJobData>(queueName(lander.chain), { connection: o.connection, prefix: o.prefix });
      queue.on('error', (e) => this.emit('queue-error', { chain: lander.chain, message: e.message }));
      this.chains.set(lander.chain, { lander, queue, troubled: false });
      for (const name of FORWARDED) lander.on(name, (p) => this.emit(name, p as never));
    }
  }

  /** Starts the workers, retries jobs that failed for good before (a restart is the operator's "fixed it"), reconciles. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const base = this.o.backoffBaseMs ?? 1000;
    const max = this.o.backoffMaxMs ?? 60_000;
    for (const [chain, c] of this.chains) {
      const worker = new Worker<ActionJobData>(queueName(chain), (job) => this.process(c, job), {
        connection: this.o.connection,
        prefix: this.o.prefix,
        concurrency: 1,
        // Jobs are idempotent wake-ups: a job that stalled (crashed worker) just runs again.
        maxStalledCount: 1000,
        settings: { backoffStrategy: (attemptsMade: number) => Math.min(max, base * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 30)) },
      });
      // Without a listener an 'error' event would crash the process; BullMQ reconnects by itself.
      worker.on('error', (e) => this.emit('queue-error', { chain, message: e.message }));
      c.worker = worker;
    }
    await this.reconcile({ retryFailed: true });
    const every = this.o.reconcileIntervalMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => {
        this.reconcile().catch((e: unknown) => this.emit('queue-error', { chain: '*', message: asKlxError(e).message }));
      }, every);
      this.timer.unref();
    }
  }

  /** Wakes the chain's queue for a newly signed action (idempotent). */
  async enqueue(chain: string, actionId: bigint): Promise<void> {
    const c = this.chains.get(chain);
    if (!c) throw new RangeError(`no lander for chain "${chain}"`);
    await c.queue.add('land', { chain, actionId: actionId.toString() }, { ...this.jobOptions, jobId: jobIdOf(actionId) });
  }

  /**
   * Adds a job for every signed, unsettled id the source knows that the chain has not
   * executed yet (existing jobs dedupe). Returns how many ids it enqueued.
   */
  reconcile(opts: { retryFailed?: boolean } = {}): Promise<number> {
    // One run at a time; a periodic tick during a run just shares it.
    this.reconciling ??= this.reconcileAll(opts.retryFailed ?? false).finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async reconcileAll(retryFailed: boolean): Promise<number> {
    let total = 0;
    for (const [chain, c] of this.chains) {
      let ids = await this.o.source.pendingIds(chain);
      try {
        const next = await c.lander.nextExecutableId();
        ids = ids.filter((id) => id >= next);
      } catch {
        // Chain unreachable: enqueue them all; the jobs themselves wait for the chain.
      }
      if (retryFailed) await c.queue.retryJobs({ state: 'failed' });
      if (ids.length > 0) {
        await c.queue.addBulk(ids.map((id) => ({ name: 'land', data: { chain, actionId: id.toString() }, opts: { ...this.jobOptions, jobId: jobIdOf(id) } })));
      }
      total += ids.length;
      this.emit('reconciled', { chain, enqueued: ids.length });
    }
    return total;
  }

  /** The BullMQ queue of a chain (inspection, tests). */
  queueOf(chain: string): Queue<ActionJobData> {
    const c = this.chains.get(chain);
    if (!c) throw new RangeError(`no lander for chain "${chain}"`);
    return c.queue;
  }

  private async process(c: ChainQueue, job: Job<ActionJobData>): Promise<string> {
    const actionId = BigInt(job.data.actionId);
    try {
      const out = await c.lander.landThrough(actionId);
      if (c.troubled) {
        c.troubled = false;
        // The chain moves again: jobs sleeping in their backoff need not wait it out.
        await c.queue.promoteJobs().catch(() => undefined);
      }
      return out.nextId.toString();
    } catch (e) {
      const k = asKlxError(e);
      if (!k.retriable) {
        this.emit('failed', { chain: c.lander.chain, actionId, code: k.code, message: k.message });
        // Fails the job now, whatever attempts remain: retrying cannot help.
        throw new UnrecoverableError(`${k.code}: ${k.message}`);
      }
      c.troubled = true;
      this.emit('retry', { chain: c.lander.chain, actionId, code: k.code, message: k.message, attempt: job.attemptsMade + 1 });
      throw e;
    }
  }

  /** Stops the timer, waits for the active jobs, closes the Redis connections (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      await this.reconciling?.catch(() => undefined);
      for (const c of this.chains.values()) await c.worker?.close();
      for (const c of this.chains.values()) await c.queue.close();
    })();
    return this.closing;
  }
}
