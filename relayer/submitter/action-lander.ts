/**
 * ActionLander: lands one chain's signed actions in strictly ascending id order.
 * `landThrough(id)` means "land everything up to id": the chain's counter says where to
 * start, the source says what is signed, so the order in which callers (queue jobs)
 * arrive never decides the order on the chain.
 *
 * Write-ahead: a transaction is recorded in PostgreSQL before it is broadcast, and a
 * pending record is always resolved (by asking the chain about those exact bytes) before
 * anything new is sent. So at most one transaction per chain is in flight, and nothing
 * is resent blindly after a crash. See docs/adr/0011-ordered-action-queue.md.
 */
import { KlxError } from '../ledger/errors.ts';
import { TypedEmitter } from '../events.ts';
import type { ChainAdapter, SignedAction, SubmissionRecord } from '../../adapters/chain-adapter.ts';
import type { SignedActionSource } from './action-source.ts';
import { SubmitterError, WAITING_CODES, asKlxError } from './errors.ts';
import type { SubmitterEvents } from './events.ts';
import type { StoredSubmission, SubmissionStore } from './submission-store.ts';

/** Transactions a job lands past its own id before it ends (the jobs behind it go on). */
const MAX_TRANSACTIONS_PAST_TARGET = 8;

export interface ActionLanderOptions {
  adapter: ChainAdapter;
  source: SignedActionSource;
  store: SubmissionStore;
  /** The fee payer's secret (hex); never logged, never put in an error. */
  payerSecret: string;
  /** Most actions per transaction (default 16). */
  batchLimit?: number;
  /** Interval between inclusion checks (default 1 s). */
  pollIntervalMs?: number;
  /** How long one attempt waits for inclusion before giving up retriably (default 120 s). */
  inclusionTimeoutMs?: number;
  /** A record the chain does not know is dropped only this long after it was written, and only once its nonce was used (default 5 min). */
  dropGraceMs?: number;
  /** After a chain failure (revert, RPC error), submissions pause: base and cap of the doubling pause (default 1 s, 60 s). */
  holdBaseMs?: number;
  holdMaxMs?: number;
  /** How long the last inclusion answers wake-ups for the ids it executed without an RPC read (default 3 s). */
  landedAnswerMs?: number;
  /** The clock (ms), Date.now by default; tests move it instead of sleeping. */
  now?: () => number;
}

export interface LandOutcome {
  /** The chain's next executable id when the call returned (> the id asked for). */
  nextId: bigint;
  /** Transactions this call saw included. */
  included: number;
}

type Final = 'included' | 'reverted';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ActionLander extends TypedEmitter<SubmitterEvents> {
  readonly chain: string;
  private readonly adapter: ChainAdapter;
  private readonly source: SignedActionSource;
  private readonly store: SubmissionStore;
  private readonly payerSecret: string;
  private readonly batchLimit: number;
  private readonly pollIntervalMs: number;
  private readonly inclusionTimeoutMs: number;
  private readonly dropGraceMs: number;
  private readonly holdBaseMs: number;
  private readonly holdMaxMs: number;
  private readonly landedAnswerMs: number;
  private readonly now: () => number;
  private payer: string | undefined;
  /** Next payer nonce as this process knows it (an RPC behind a load balancer may lag). */
  private nextNonce: bigint | null = null;
  private failures = 0;
  private holdUntil = 0;
  /**
   * Ids below `landedNext` were executed by this process's last included submission: for
   * a short while, a wake-up for one of them is answered without an RPC read (a batch of
   * 64 otherwise costs 64 reads before the next batch can start). The answer expires so
   * that a reorganisation that drops the inclusion is seen by the next reconcile's jobs.
   */
  private landedNext = 0n;
  private landedAt = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(o: ActionLanderOptions) {
    super();
    this.adapter = o.adapter;
    this.chain = o.adapter.chain;
    this.source = o.source;
    this.store = o.store;
    this.payerSecret = o.payerSecret;
    this.batchLimit = Math.min(o.batchLimit ?? 16, o.adapter.maxActionsPerSubmission);
    this.pollIntervalMs = o.pollIntervalMs ?? 1000;
    this.inclusionTimeoutMs = o.inclusionTimeoutMs ?? 120_000;
    this.dropGraceMs = o.dropGraceMs ?? 300_000;
    this.holdBaseMs = o.holdBaseMs ?? 1000;
    this.holdMaxMs = o.holdMaxMs ?? 60_000;
    this.landedAnswerMs = o.landedAnswerMs ?? 3000;
    this.now = o.now ?? Date.now;
    if (!(this.batchLimit >= 1)) throw new RangeError('batchLimit must be at least 1');
  }

  nextExecutableId(): Promise<bigint> {
    return this.adapter.nextExecutableId();
  }

  /** Lands every action up to `actionId`, and then what else is signed already. Calls run one at a time. */
  landThrough(actionId: bigint): Promise<LandOutcome> {
    const run = this.tail.then(() => this.landSerial(actionId));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async landSerial(target: bigint): Promise<LandOutcome> {
    if (target < this.landedNext && this.now() - this.landedAt < this.landedAnswerMs) return { nextId: this.landedNext, included: 0 };
    let included = 0;
    try {
      let pastTarget = 0;
      for (;;) {
        const next = await this.adapter.nextExecutableId();
        // Past the target, what is signed already lands too (a few transactions at most, so the
        // job ends): a job is a wake-up, and the jobs queued behind it would each cost a queue
        // round trip before landing anything.
        const beyond = next > target;
        if (beyond && pastTarget++ >= MAX_TRANSACTIONS_PAST_TARGET) return await this.landed(next, included);
        try {
          if (beyond && (await this.source.signedActions(this.chain, next, 1)).length === 0) return await this.landed(next, included);
          const held = this.holdUntil - this.now();
          if (held > 0) throw new SubmitterError('CHAIN_HELD', `${this.chain}: submissions paused for ${held} ms after a failure`, { chain: this.chain });
          // Anything in flight is resolved first; a resolution may move the counter, so look again.
          if ((await this.resolvePending()) > 0) continue;
          const batch = await this.batchFrom(next);
          const record = await this.submit(batch);
          await this.awaitFinal(record);
          included++;
          const after = await this.adapter.nextExecutableId();
          if (after <= record.firstId) {
            throw new SubmitterError('NO_PROGRESS', `${this.chain}: ${record.txHash} was included but the next id is still ${after}`, { chain: this.chain });
          }
        } catch (e) {
          // This job's target is landed: a failure beyond it is reported by the job of the
          // failing id, which meets the same pause.
          if (!beyond) throw e;
          this.holdAfter(e);
          return { nextId: next, included };
        }
      }
    } catch (e) {
      this.holdAfter(e);
      throw e;
    }
  }

  private async landed(nextId: bigint, included: number): Promise<LandOutcome> {
    if (included > 0) this.failures = 0;
    await this.recordFinished();
    return { nextId, included };
  }

  private holdAfter(e: unknown): void {
    const k = asKlxError(e);
    if (k.retriable && !WAITING_CODES.has(k.code)) {
      // A revert or an RPC failure costs fees or load: every queued job would repeat it, so the chain pauses.
      // (A non-retriable error fails each job at once instead: no pause, no repetition.)
      this.failures++;
      this.holdUntil = this.now() + Math.min(this.holdMaxMs, this.holdBaseMs * 2 ** Math.min(this.failures - 1, 30));
    }
  }

  /**
   * Best effort, never blocking: closes pending records the chain already finished (e.g.
   * one left by a crashed process whose ids are executed by now), so the table tells the
   * truth without waiting for the next submission, which would resolve them anyway.
   */
  private async recordFinished(): Promise<void> {
    try {
      for (const row of await this.store.pending(this.chain)) {
        const state = await this.adapter.submissionState(toRecord(row));
        if (state !== 'included' && state !== 'reverted') continue;
        await this.store.close(this.chain, row.txHash, state);
        this.emit(state === 'included' ? 'landed' : 'reverted', this.ev(row));
      }
    } catch {
      // The ids asked for are executed; anything left is resolved before the next submission.
    }
  }

  /** The consecutive signed actions from `next` (a gap ends the batch). */
  private async batchFrom(next: bigint): Promise<SignedAction[]> {
    const got = await this.source.signedActions(this.chain, next, this.batchLimit);
    const batch: SignedAction[] = [];
    for (const a of got) {
      if (batch.length >= this.batchLimit || a.chain !== this.chain || a.actionId !== next + BigInt(batch.length)) break;
      batch.push(a);
    }
    if (batch.length === 0) {
      throw new SubmitterError('ACTION_NOT_SIGNED', `${this.chain}: action ${next} is not signed yet`, { chain: this.chain, actionId: next.toString() });
    }
    return batch;
  }

  private payerAddress(): string {
    // Loading the key throws the adapter's non-retriable error for a bad key (without the secret).
    this.payer ??= this.adapter.signer(this.payerSecret).address;
    return this.payer;
  }

  /** Prepares, records (write-ahead), then broadcasts one transaction. */
  private async submit(batch: SignedAction[]): Promise<StoredSubmission> {
    const first = batch[0] as SignedAction;
    const last = batch[batch.length - 1] as SignedAction;
    const chainNonce = await this.adapter.payerNonce(this.payerAddress());
    const nonce = chainNonce === null ? null : this.nextNonce !== null && this.nextNonce > chainNonce ? this.nextNonce : chainNonce;
    const record = await this.adapter.prepareSubmission(batch, this.payerSecret, nonce);
    const put = await this.store.insertPending(this.chain, record, first.actionId, last.actionId);
    // Not recorded means never sent: the prepared bytes are simply forgotten.
    if (put === 'pending-exists') {
      throw new SubmitterError('SUBMISSION_PENDING', `${this.chain}: another submitter has a transaction in flight`, { chain: this.chain });
    }
    if (put === 'duplicate') {
      throw new SubmitterError('SUBMISSION_DUPLICATE', `${this.chain}: prepared bytes ${record.txHash} are already recorded as final`, { chain: this.chain });
    }
    if (record.nonce !== null) this.nextNonce = record.nonce + 1n;
    const row: StoredSubmission = { ...record, chain: this.chain, firstId: first.actionId, lastId: last.actionId, state: 'pending', ageMs: 0 };
    await this.send(row);
    this.emit('submitted', { ...this.ev(row), nonce: record.nonce });
    return row;
  }

  /** Broadcasts recorded bytes; bytes the chain refuses for good can never be included, so their record is closed. */
  private async send(row: StoredSubmission): Promise<void> {
    try {
      await this.adapter.broadcast(toRecord(row));
    } catch (e) {
      if (e instanceof KlxError && !e.retriable) await this.drop(row, `refused by the chain: ${e.code}`);
      throw e;
    }
  }

  /**
   * Resolves the chain's pending records; returns how many it closed. A record still in
   * flight is waited for (bounded; then SUBMISSION_TIMEOUT), so nothing new goes next to it.
   */
  private async resolvePending(): Promise<number> {
    let closed = 0;
    for (const row of await this.store.pending(this.chain)) {
      const state = await this.adapter.submissionState(toRecord(row));
      if (state === 'included' || state === 'reverted') {
        await this.finish(row, state);
      } else if (state === 'pending') {
        await this.awaitFinal(row);
      } else if (row.ageMs >= this.dropGraceMs && (await this.nonceMovedPast(row))) {
        // Another transaction took its nonce: these bytes can never be included.
        await this.drop(row, 'unknown to the chain after the grace period and its nonce was used');
      } else {
        // The SAME bytes through the same adapter: at worst the chain sees a duplicate it ignores.
        // Each resolution sends at most once and then waits the inclusion bound, which paces re-broadcasts.
        try {
          await this.send(row);
        } catch (e) {
          // Refused for good (e.g. its nonce was taken): send() closed it as dropped; a new one may go.
          if (e instanceof KlxError && !e.retriable) {
            closed++;
            continue;
          }
          throw e;
        }
        this.emit('rebroadcast', this.ev(row));
        await this.awaitFinal(row);
      }
      closed++;
    }
    return closed;
  }

  private async nonceMovedPast(row: StoredSubmission): Promise<boolean> {
    // Without a payer nonce (expiring transactions), the adapter's 'unknown' after the grace period is final.
    if (row.nonce === null) return true;
    const n = await this.adapter.payerNonce(this.payerAddress());
    return n !== null && n > row.nonce;
  }

  /** Polls until the record is final, within the inclusion bound (a timeout is retriable: the record stays pending). */
  private async awaitFinal(row: StoredSubmission): Promise<void> {
    const deadline = this.now() + this.inclusionTimeoutMs;
    for (;;) {
      const state = await this.adapter.submissionState(toRecord(row));
      if (state === 'included' || state === 'reverted') return this.finish(row, state);
      if (this.now() >= deadline) {
        throw new SubmitterError('SUBMISSION_TIMEOUT', `${this.chain}: ${row.txHash} (actions ${row.firstId}..${row.lastId}) is ${state} after ${this.inclusionTimeoutMs} ms`, {
          chain: this.chain,
          txHash: row.txHash,
        });
      }
      await sleep(this.pollIntervalMs);
    }
  }

  private async finish(row: StoredSubmission, state: Final): Promise<void> {
    await this.store.close(this.chain, row.txHash, state);
    if (row.nonce !== null && (this.nextNonce === null || this.nextNonce <= row.nonce)) this.nextNonce = row.nonce + 1n;
    if (state === 'included') {
      if (row.lastId + 1n > this.landedNext) this.landedNext = row.lastId + 1n;
      this.landedAt = this.now();
      this.emit('landed', this.ev(row));
      return;
    }
    this.emit('reverted', this.ev(row));
    // A revert because the ids were executed meanwhile (another submitter) is harmless.
    const next = await this.adapter.nextExecutableId();
    if (next <= row.lastId) {
      throw new SubmitterError('SUBMISSION_REVERTED', `${this.chain}: ${row.txHash} (actions ${row.firstId}..${row.lastId}) reverted; next id is ${next}`, {
        chain: this.chain,
        txHash: row.txHash,
      });
    }
  }

  private async drop(row: StoredSubmission, reason: string): Promise<void> {
    await this.store.close(this.chain, row.txHash, 'dropped');
    // Its nonce may be free again: trust the chain's count from now on.
    this.nextNonce = null;
    this.emit('dropped', { ...this.ev(row), reason });
  }

  private ev(row: StoredSubmission) {
    return { chain: this.chain, txHash: row.txHash, firstId: row.firstId, lastId: row.lastId };
  }
}

function toRecord(row: StoredSubmission): SubmissionRecord {
  return { txHash: row.txHash, nonce: row.nonce, raw: row.raw };
}
