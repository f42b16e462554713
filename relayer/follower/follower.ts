/**
 * VerifyingFollower: follows a channel's block stream and verifies every block itself
 * (ChainVerifier: signature, hash chain, re-execution to the same state commitment)
 * into its own schema, so listeners and approvers never trust the processor's word or
 * read its database. It resumes from its own store after a restart and stops at the
 * first block that does not verify, persisting nothing of it and saying why.
 */
import type pg from 'pg';
import type { Block } from '../ledger/block.ts';
import { BlockVerificationError } from '../ledger/errors.ts';
import type { StateChange } from '../ledger/state.ts';
import { ChainVerifier, type ChainIdentity } from '../ledger/verifier.ts';
import { TypedEmitter, type FollowerEvents } from '../events.ts';
import { ChannelStore } from '../store/channel-store.ts';
import { migrate } from '../store/migrate.ts';
import type { BlockSource } from './block-source.ts';

export interface FollowerOptions {
  pool: pg.Pool;
  /** The follower's own schema (never the processors'). */
  schema: string;
  identity: ChainIdentity & { producer: Uint8Array };
  /** Blocks verified in memory before one durable write. */
  maxBatch?: number;
}

export class VerifyingFollower extends TypedEmitter<FollowerEvents> {
  private verifier: ChainVerifier | null = null;
  private store: ChannelStore;
  /** Height of the last block durably stored (the verifier's memory runs ahead during a write). */
  private stored = -1n;

  constructor(private readonly opts: FollowerOptions) {
    super();
    this.store = new ChannelStore(opts.pool, opts.schema, opts.identity.channel);
  }

  /** The last verified height that is durably stored (what /health and metrics report). */
  get height(): bigint {
    return this.verifier ? this.stored : -1n;
  }
  get state() {
    return this.requireOpen().state;
  }

  /** Creates the own schema if needed and resumes from what it holds. */
  async open(): Promise<void> {
    const client = await this.opts.pool.connect();
    try {
      await migrate(client, this.opts.schema);
    } finally {
      client.release();
    }
    this.verifier = new ChainVerifier(this.opts.identity, await this.store.loadState());
    this.stored = this.verifier.state.head.height;
  }

  private requireOpen(): ChainVerifier {
    if (!this.verifier) throw new Error('VerifyingFollower.open() first');
    return this.verifier;
  }

  /**
   * Verifies `blocks` in order and stores the verified ones durably. At the first block
   * that does not verify it stores the ones before it, emits `halted` and throws
   * BlockVerificationError; the follower must be reopened to continue.
   */
  async ingest(blocks: readonly Block[]): Promise<void> {
    const verifier = this.requireOpen();
    const good: Block[] = [];
    const changes: StateChange[][] = [];
    let failure: BlockVerificationError | null = null;
    for (const b of blocks) {
      try {
        changes.push(verifier.verifyAndApply(b));
        good.push(b);
      } catch (e) {
        if (!(e instanceof BlockVerificationError)) throw e;
        failure = e;
        break;
      }
    }
    try {
      await this.store.appendBlocks(good, changes, `follower:${this.opts.schema}`);
    } catch (e) {
      this.verifier = null; // memory is ahead of the store: reopen to resync
      throw e;
    }
    const last = good[good.length - 1];
    if (last) this.stored = last.height;
    if (last) this.emit('block-verified', { channel: this.opts.identity.channel, height: last.height });
    if (failure) {
      this.verifier = null;
      this.emit('halted', { channel: this.opts.identity.channel, height: failure.height, reason: failure.reason, message: failure.message });
      throw failure;
    }
  }

  /** Follows `source` until `signal` aborts; rejects with BlockVerificationError on a bad block. */
  async run(source: BlockSource, signal: AbortSignal): Promise<void> {
    const maxBatch = this.opts.maxBatch ?? 500;
    let batch: Block[] = [];
    let flushTimer: Promise<void> | null = null;
    // The source runs under our own signal too, so a halted run also stops its stream.
    const own = new AbortController();
    const forward = () => own.abort();
    signal.addEventListener('abort', forward);
    const iterator = source.blocks(this.height + 1n, own.signal)[Symbol.asyncIterator]();
    type Next = IteratorResult<Block> | { failure: unknown };
    const pull = (): Promise<Next> => iterator.next().then((r) => r, (failure: unknown) => ({ failure }));
    const flush = async () => {
      if (batch.length > 0) await this.ingest(batch);
      batch = [];
      flushTimer = null;
    };
    try {
      let pending = pull();
      while (!signal.aborted) {
        // Batch what is already available; flush as soon as the stream pauses.
        const winner = batch.length === 0 ? await pending : await Promise.race([pending, (flushTimer ??= tick())]);
        if (winner === undefined) {
          await flush();
          continue;
        }
        if ('failure' in winner) {
          await flush(); // the good blocks received before the failure are kept
          const e = winner.failure;
          if (e instanceof BlockVerificationError) {
            this.verifier = null;
            this.emit('halted', { channel: this.opts.identity.channel, height: e.height, reason: e.reason, message: e.message });
          }
          throw e;
        }
        if (winner.done) break;
        batch.push(winner.value);
        pending = pull();
        if (batch.length >= maxBatch) await flush();
      }
      if (!signal.aborted) await flush();
    } finally {
      signal.removeEventListener('abort', forward);
      own.abort();
    }
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));
