/**
 * TransferCoordinator: presumed-commit two-phase commit between channels, and the migration
 * (DESIGN.md section 3; ADR 0017). It orders steps; every step it sends is a hub transaction
 * that the participant checks against evidence the coordinator cannot forge (the sender's
 * signed request, a listener-attested deposit, the peer channel's signed blocks).
 *
 * Per transfer: force-write the initiation record (id = (epoch, seq)); send both prepares;
 * all yes → force-write commit, send commit once to each participant and forget (participants
 * do not acknowledge; a participant that missed it asks, and a forgotten issued id means
 * commit); any no, or no vote before the timeout → abort (lazy write), send abort until each
 * participant acknowledges (destination first: its abort block is the source's refund proof),
 * then forget. On start (`recover`): initiated without decision → abort; committed → commit
 * again; aborted → abort again.
 */
import { toHex } from '../relayer/ledger/bytes.ts';
import { TypedEmitter } from '../relayer/events.ts';
import { idText, type CoordinatorLog, type LogEntry } from './coordinator-log.ts';
import type { ChannelPort, StepResult, StepType } from './channel-port.ts';
import type { TxBodies } from '../relayer/ledger/tx-bodies.ts';

export interface CoordinatorEvents {
  /** One protocol message: sent by the coordinator (prepare, commit, abort) or received (vote, ack). */
  message: { id: string; kind: 'prepare' | 'vote' | 'commit' | 'abort' | 'ack'; channel: string };
  decided: { id: string; decision: 'commit' | 'abort'; reason: string };
  forgotten: { id: string; decision: 'commit' | 'abort' };
  alarm: { id: string; message: string };
}

export interface CoordinatorOptions {
  log: CoordinatorLog;
  ports: ReadonlyMap<string, ChannelPort>;
  epoch: bigint;
  /** The coordinator's own timeout for votes (ms); after it, abort. */
  voteTimeoutMs: number;
  /** Pause between retries of an unreachable participant (ms). */
  retryMs?: number;
  /** Failure injection: called after every forced write and every message. Tests and crash drills only. */
  crashPoint?: (point: string, id: string) => void;
}

/** A transfer's crash-injection points, in protocol order. */
export const CRASH_POINTS = [
  'initiated', 'prepared:source', 'prepared:dest', 'decided:commit', 'committed:dest', 'committed:source',
  'decided:abort', 'aborted:dest', 'aborted:source', 'forgotten',
] as const;

const YES_CODES = new Set(['ALREADY_PREPARED', 'ALREADY_COMMITTED']);
const ACK_CODES = new Set(['ALREADY_ABORTED']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const transferId = (e: LogEntry) => ({ epoch: e.epoch.toString(), seq: e.seq.toString() });

export class TransferCoordinator extends TypedEmitter<CoordinatorEvents> {
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly o: CoordinatorOptions) {
    super();
  }

  get epoch(): bigint {
    return this.o.epoch;
  }

  stop(): void {
    this.stopped = true;
  }
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }
  isDriving(id: string): boolean {
    return this.inFlight.has(id);
  }

  private port(channel: string): ChannelPort {
    const p = this.o.ports.get(channel);
    if (!p) throw new Error(`no port for channel ${channel}`);
    return p;
  }
  private crash(point: string, id: string): void {
    if (this.stopped) throw new Error('coordinator stopped');
    this.o.crashPoint?.(point, id);
  }

  /** Starts driving an initiated (or recovered) entry; resolves when the transfer is decided and delivered. */
  drive(e: LogEntry, recovering = false): Promise<void> {
    const id = idText(e);
    const existing = this.inFlight.get(id);
    if (existing) return existing;
    const run = this.run(e, recovering).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, run);
    return run;
  }

  private async run(e: LogEntry, recovering: boolean): Promise<void> {
    const id = idText(e);
    if (!recovering) this.crash('initiated', id);
    let state = e.state;
    if (state === 'initiated') {
      const reason = recovering ? 'recovered without a decision: presumed abort' : await this.collectVotes(e);
      if (reason === null) {
        await this.o.log.decideCommit(e);
        state = 'committed';
        this.emit('decided', { id, decision: 'commit', reason: 'every participant voted yes' });
        this.crash('decided:commit', id);
      } else {
        await this.o.log.decideAbort(e, reason);
        state = 'aborted';
        this.emit('decided', { id, decision: 'abort', reason });
        this.crash('decided:abort', id);
      }
    }
    if (state === 'committed') await this.sendCommits(e);
    else await this.abortEverywhere(e);
    await this.o.log.forget(e);
    this.emit('forgotten', { id, decision: state === 'committed' ? 'commit' : 'abort' });
    this.crash('forgotten', id);
  }

  // ------------------------------------------------------------------ phase 1

  /** Null when every participant voted yes; otherwise why the transfer aborts. */
  private async collectVotes(e: LogEntry): Promise<string | null> {
    const deadline = Date.now() + this.o.voteTimeoutMs;
    const votes: Promise<string | null>[] =
      e.kind === 'migration'
        ? [this.vote(e, e.dest, 'migrate-prepare', { chain: e.source, eventId: e.eventId ?? '', id: transferId(e) }, 'prepared:dest', deadline)]
        : (['source', 'dest'] as const).map((side) =>
            this.vote(e, side === 'source' ? e.source : e.dest, 'xfer-prepare', { id: transferId(e), side, request: toHex(e.request ?? new Uint8Array()) }, `prepared:${side}`, deadline),
          );
    const no = (await Promise.all(votes)).filter((r) => r !== null);
    return no.length === 0 ? null : no.join('; ');
  }

  private async vote<T extends StepType>(e: LogEntry, channel: string, type: T, body: TxBodies[T], point: string, deadline: number): Promise<string | null> {
    const id = idText(e);
    for (;;) {
      this.emit('message', { id, kind: 'prepare', channel });
      const r = await this.port(channel).step(type, body);
      this.crash(point, id);
      if (r.ok || YES_CODES.has(r.code)) {
        this.emit('message', { id, kind: 'vote', channel });
        return null;
      }
      if (!r.retriable) {
        this.emit('message', { id, kind: 'vote', channel });
        return `${channel} voted no: ${r.code}`;
      }
      if (Date.now() >= deadline) return `${channel} did not vote before the coordinator's timeout (${r.code})`;
      await sleep(this.o.retryMs ?? 200);
    }
  }

  // ------------------------------------------------------------------ phase 2

  /** Sends commit once to each participant; one that misses it asks later (presumed commit). */
  private async sendCommits(e: LogEntry): Promise<void> {
    const id = idText(e);
    const sides = e.kind === 'migration' ? (['dest'] as const) : (['dest', 'source'] as const);
    for (const side of sides) {
      await this.commitAt(e, side === 'dest' ? e.dest : e.source).catch((err: unknown) => this.emit('alarm', { id, message: `commit to ${side} not delivered: ${(err as Error).message}` }));
      this.crash(`committed:${side}`, id);
    }
  }

  /** Delivers commit to one participant (also the answer to its inquiry about a forgotten id). */
  async commitAt(e: Pick<LogEntry, 'epoch' | 'seq' | 'kind' | 'source' | 'dest' | 'eventId'>, channel: string): Promise<StepResult> {
    const id = idText(e);
    this.emit('message', { id, kind: 'commit', channel });
    if (e.kind === 'migration') return this.port(channel).step('migrate-commit', { chain: e.source, eventId: e.eventId ?? '', id: transferId(e as LogEntry) });
    const peer = channel === e.source ? e.dest : e.source;
    const peerRecord = await this.port(peer).transfer(id);
    if (!peerRecord?.preparedHeight) throw new Error(`${peer} holds no prepare of ${id}`);
    const proof = await this.port(peer).blockWire(BigInt(peerRecord.preparedHeight));
    return this.port(channel).step('xfer-commit', { id: transferId(e as LogEntry), proof: toHex(proof) });
  }

  /** Abort, destination first, until each participant acknowledges. */
  private async abortEverywhere(e: LogEntry): Promise<void> {
    const id = idText(e);
    const body = { chain: e.source, eventId: e.eventId ?? '', id: transferId(e) };
    if (e.kind === 'migration') {
      await this.untilAck(id, e.dest, () => this.port(e.dest).step('migrate-abort', body));
      this.crash('aborted:dest', id);
      return;
    }
    await this.untilAck(id, e.dest, () => this.port(e.dest).step('xfer-abort', { id: transferId(e), peer: e.source }));
    this.crash('aborted:dest', id);
    await this.untilAck(id, e.source, async () => {
      const mine = await this.port(e.source).transfer(id);
      if (mine?.status !== 'prepared') return this.port(e.source).step('xfer-abort', { id: transferId(e), peer: e.dest });
      const dest = await this.port(e.dest).transfer(id);
      const proof = await this.port(e.dest).blockWire(BigInt(dest?.abortHeight ?? '-1'));
      return this.port(e.source).step('xfer-abort', { id: transferId(e), peer: e.dest, proof: toHex(proof) });
    });
    this.crash('aborted:source', id);
  }

  private async untilAck(id: string, channel: string, send: () => Promise<StepResult>): Promise<void> {
    for (;;) {
      this.emit('message', { id, kind: 'abort', channel });
      let r: StepResult;
      try {
        r = await send();
      } catch (err) {
        r = { ok: false, code: 'UNREACHABLE', message: (err as Error).message, retriable: true };
      }
      if (this.stopped) throw new Error('coordinator stopped');
      if (r.ok || ACK_CODES.has(r.code)) {
        this.emit('message', { id, kind: 'ack', channel });
        return;
      }
      if (!r.retriable) this.emit('alarm', { id, message: `${channel} refuses the abort: ${r.code}: ${r.message}` });
      await sleep(this.o.retryMs ?? 200);
    }
  }
}

