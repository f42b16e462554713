/**
 * CoordinatorLog: the coordinator's durable log in PostgreSQL (migrations/0003).
 *
 * Presumed commit fixes which writes are forced (made durable before the coordinator sends the
 * next message): the initiation record (with the epoch's issued high-water mark, in the same
 * transaction) and the commit decision. The abort decision, the end record (forgetting: the
 * row is deleted) and the history are lazy (`synchronous_commit = off`): losing one in a crash
 * only repeats an idempotent step. The counters are what the benchmark prints.
 */
import type pg from 'pg';
import { schemaIdent } from '../relayer/store/db.ts';

export type LogState = 'initiated' | 'committed' | 'aborted';

export interface LogEntry {
  epoch: bigint;
  seq: bigint;
  kind: 'xfer' | 'migration';
  source: string;
  dest: string;
  asset: string;
  amount: bigint;
  sender: string;
  recipient: string;
  request: Uint8Array | null;
  eventId: string | null;
  state: LogState;
}

export type NewEntry = Omit<LogEntry, 'epoch' | 'seq' | 'state'>;

export const idText = (e: { epoch: bigint; seq: bigint }): string => `${e.epoch}.${e.seq}`;

interface Row {
  epoch: bigint;
  seq: bigint;
  kind: 'xfer' | 'migration';
  source: string;
  dest: string;
  asset: string;
  amount: string;
  sender: string;
  recipient: string;
  request: Buffer | null;
  event_id: string | null;
  state: LogState;
}

const toEntry = (r: Row): LogEntry => ({
  epoch: BigInt(r.epoch), seq: BigInt(r.seq), kind: r.kind, source: r.source, dest: r.dest, asset: r.asset, amount: BigInt(r.amount),
  sender: r.sender, recipient: r.recipient, request: r.request ? new Uint8Array(r.request) : null, eventId: r.event_id, state: r.state,
});

export class CoordinatorLog {
  forcedWrites = 0;
  lazyWrites = 0;
  private readonly s: string;

  constructor(
    private readonly db: pg.Pool,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  private async write(forced: boolean, statements: [string, unknown[]][]): Promise<pg.QueryResult[]> {
    const c = await this.db.connect();
    try {
      await c.query('BEGIN');
      if (!forced) await c.query('SET LOCAL synchronous_commit = off');
      const out: pg.QueryResult[] = [];
      for (const [sql, params] of statements) out.push(await c.query(sql, params));
      await c.query('COMMIT');
      if (forced) this.forcedWrites++;
      else this.lazyWrites++;
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** A new epoch, durably higher than every earlier one (forced): called at every coordinator start. */
  async startEpoch(instance: string): Promise<bigint> {
    const [r] = await this.write(true, [[`INSERT INTO ${this.s}.coordinator_epochs (epoch, instance) SELECT coalesce(max(epoch), 0) + 1, $1 FROM ${this.s}.coordinator_epochs RETURNING epoch`, [instance]]]);
    return BigInt((r?.rows[0] as { epoch: bigint }).epoch);
  }

  /** Forced write of the initiation record; the sequence is issued in the same transaction. Null when the migration already has a record. */
  async initiate(epoch: bigint, e: NewEntry): Promise<LogEntry | null> {
    try {
      const [bump, insert] = await this.write(true, [
        [`UPDATE ${this.s}.coordinator_epochs SET max_seq = max_seq + 1 WHERE epoch = $1 RETURNING max_seq`, [epoch]],
        [
          `INSERT INTO ${this.s}.coordinator_log (epoch, seq, kind, source, dest, asset, amount, sender, recipient, request, event_id, state)
           SELECT $1, max_seq, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'initiated' FROM ${this.s}.coordinator_epochs WHERE epoch = $1 RETURNING *`,
          [epoch, e.kind, e.source, e.dest, e.asset, e.amount.toString(), e.sender, e.recipient, e.request ? Buffer.from(e.request) : null, e.eventId],
        ],
        [`INSERT INTO ${this.s}.coordinator_history (epoch, seq, step) SELECT $1, max_seq, 'initiated' FROM ${this.s}.coordinator_epochs WHERE epoch = $1`, [epoch]],
      ]);
      if (bump?.rowCount !== 1) throw new Error(`epoch ${epoch} does not exist`);
      return toEntry(insert?.rows[0] as Row);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return null; // this migration is already being run
      throw err;
    }
  }

  /** The commit decision (forced). */
  async decideCommit(e: LogEntry): Promise<void> {
    await this.write(true, [
      [`UPDATE ${this.s}.coordinator_log SET state = 'committed' WHERE epoch = $1 AND seq = $2 AND state = 'initiated'`, [e.epoch, e.seq]],
      [`INSERT INTO ${this.s}.coordinator_history (epoch, seq, step) VALUES ($1, $2, 'decided commit')`, [e.epoch, e.seq]],
    ]);
  }

  /** The abort decision (lazy: an initiation without a decision means abort anyway). */
  async decideAbort(e: LogEntry, reason: string): Promise<void> {
    await this.write(false, [
      [`UPDATE ${this.s}.coordinator_log SET state = 'aborted' WHERE epoch = $1 AND seq = $2 AND state = 'initiated'`, [e.epoch, e.seq]],
      [`INSERT INTO ${this.s}.coordinator_history (epoch, seq, step, detail) VALUES ($1, $2, 'decided abort', $3)`, [e.epoch, e.seq, reason]],
    ]);
  }

  /** The end record: the coordinator forgets the transfer (lazy). */
  async forget(e: LogEntry): Promise<void> {
    await this.write(false, [
      [`DELETE FROM ${this.s}.coordinator_log WHERE epoch = $1 AND seq = $2`, [e.epoch, e.seq]],
      [`INSERT INTO ${this.s}.coordinator_history (epoch, seq, step) VALUES ($1, $2, 'forgotten')`, [e.epoch, e.seq]],
    ]);
  }

  /** A step worth showing in the status query (lazy). */
  async note(e: { epoch: bigint; seq: bigint }, step: string, detail = ''): Promise<void> {
    await this.write(false, [[`INSERT INTO ${this.s}.coordinator_history (epoch, seq, step, detail) VALUES ($1, $2, $3, $4)`, [e.epoch, e.seq, step, detail]]]);
  }

  async entries(): Promise<LogEntry[]> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM ${this.s}.coordinator_log ORDER BY epoch, seq`);
    return rows.map(toEntry);
  }

  async entry(epoch: bigint, seq: bigint): Promise<LogEntry | null> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM ${this.s}.coordinator_log WHERE epoch = $1 AND seq = $2`, [epoch, seq]);
    return rows[0] ? toEntry(rows[0]) : null;
  }

  /** Whether (epoch, seq) was ever issued (its initiation record was forced at some point). */
  async wasIssued(epoch: bigint, seq: bigint): Promise<boolean> {
    const { rows } = await this.db.query<{ max_seq: bigint }>(`SELECT max_seq FROM ${this.s}.coordinator_epochs WHERE epoch = $1`, [epoch]);
    return seq >= 1n && rows[0] !== undefined && seq <= BigInt(rows[0].max_seq);
  }

  async history(epoch: bigint, seq: bigint): Promise<{ step: string; detail: string; at: string }[]> {
    const { rows } = await this.db.query<{ step: string; detail: string; at: Date }>(
      `SELECT step, detail, at FROM ${this.s}.coordinator_history WHERE epoch = $1 AND seq = $2 ORDER BY at, step`,
      [epoch, seq],
    );
    return rows.map((r) => ({ step: r.step, detail: r.detail, at: r.at.toISOString() }));
  }
}
