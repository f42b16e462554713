/**
 * SubmissionStore: the submitter's write-ahead records (`submitter_submissions` of a
 * ledger schema). A transaction is recorded BEFORE it is broadcast, so whoever runs next
 * (a retry, a restarted process, another instance on the same database) finds it and
 * resolves it by looking these exact bytes up, never by sending different ones.
 */
import type pg from 'pg';
import type { SubmissionRecord } from '../../adapters/chain-adapter.ts';
import { schemaIdent } from '../store/db.ts';

export type SubmissionRowState = 'pending' | 'included' | 'reverted' | 'dropped';

export interface StoredSubmission extends SubmissionRecord {
  chain: string;
  firstId: bigint;
  lastId: bigint;
  state: SubmissionRowState;
  /** Milliseconds since the row was last written (database clock). */
  ageMs: number;
}

/** 'pending-exists': another pending record of the chain was there first; nothing was written. */
export type InsertOutcome = 'inserted' | 'pending-exists' | 'duplicate';

interface Row {
  chain: string;
  tx_hash: string;
  first_action_id: string;
  last_action_id: string;
  payer_nonce: string | null;
  raw: string;
  state: SubmissionRowState;
  age_ms: number;
}

const COLUMNS = `chain, tx_hash, first_action_id::text, last_action_id::text, payer_nonce::text, raw, state,
  (extract(epoch FROM now() - updated_at) * 1000)::float8 AS age_ms`;

function fromRow(r: Row): StoredSubmission {
  return {
    chain: r.chain,
    txHash: r.tx_hash,
    firstId: BigInt(r.first_action_id),
    lastId: BigInt(r.last_action_id),
    nonce: r.payer_nonce === null ? null : BigInt(r.payer_nonce),
    raw: r.raw,
    state: r.state,
    ageMs: r.age_ms,
  };
}

export class SubmissionStore {
  private readonly t: string;
  constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    this.t = `${schemaIdent(schema)}.submitter_submissions`;
  }

  /** Pending records of a chain, oldest first. */
  async pending(chain: string): Promise<StoredSubmission[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.t} WHERE chain = $1 AND state = 'pending' ORDER BY created_at, tx_hash`, [chain]);
    return rows.map(fromRow);
  }

  /** Every record of a chain, oldest first (operators, tests). */
  async list(chain: string): Promise<StoredSubmission[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.t} WHERE chain = $1 ORDER BY created_at, tx_hash`, [chain]);
    return rows.map(fromRow);
  }

  /**
   * Records a transaction as pending, unless the chain already has a pending one. The
   * check and the insert run under a per-chain advisory lock, so two landers sharing the
   * database can never both put a transaction in flight for the same chain.
   */
  async insertPending(chain: string, record: SubmissionRecord, firstId: bigint, lastId: bigint): Promise<InsertOutcome> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('klx-submitter:' || $1::text || ':' || $2::text, 0))`, [this.schema, chain]);
      // READ COMMITTED: this statement sees every row committed before the lock was granted.
      const busy = await client.query(`SELECT 1 FROM ${this.t} WHERE chain = $1 AND state = 'pending' LIMIT 1`, [chain]);
      if (busy.rowCount) {
        await client.query('ROLLBACK');
        return 'pending-exists';
      }
      // The same bytes may come back after they were dropped (same nonce, same actions): pending again.
      const put = await client.query(
        `INSERT INTO ${this.t} AS s (chain, tx_hash, first_action_id, last_action_id, payer_nonce, raw)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (chain, tx_hash) DO UPDATE SET state = 'pending', updated_at = now() WHERE s.state = 'dropped'`,
        [chain, record.txHash, firstId.toString(), lastId.toString(), record.nonce?.toString() ?? null, record.raw],
      );
      await client.query('COMMIT');
      return put.rowCount ? 'inserted' : 'duplicate';
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Closes a pending record; false when it was not pending any more (someone else closed it). */
  async close(chain: string, txHash: string, state: Exclude<SubmissionRowState, 'pending'>): Promise<boolean> {
    const r = await this.pool.query(`UPDATE ${this.t} SET state = $3, updated_at = now() WHERE chain = $1 AND tx_hash = $2 AND state = 'pending'`, [
      chain,
      txHash,
      state,
    ]);
    return r.rowCount === 1;
  }
}
