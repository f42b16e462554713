/** The listener's durable state in its own schema: per-chain cursor, attested blocks, halts. */
import type pg from 'pg';
import type { BlockRef } from '../../adapters/chain-adapter.ts';
import { schemaIdent } from '../store/db.ts';
import { KlxError } from '../ledger/errors.ts';

export interface ListenerCursor {
  block: BlockRef;
  nextEventId: bigint | null;
  /** Per chain asset: deposits minus paid releases seen so far; custody never holds less. */
  custodyFloor: Record<string, string>;
}

/** Attested blocks the reorganisation search reads, newest first (reorg-search.ts). */
export const SEARCHED_ATTESTED_BLOCKS = 1_024;

export interface ListenerStoreOptions {
  /** Attested blocks kept per chain; older ones are deleted (default: four times what a search reads). */
  keepAttested?: number;
  /** Advances between two prunings of the attested blocks (default 256). */
  pruneEvery?: number;
  /** Told when a pruning fails (the cursor is written by then; the next pruning tries again). */
  onPruneError?: (chain: string, error: Error) => void;
}

export class ListenerStore {
  private readonly s: string;
  private readonly keepAttested: number;
  private readonly pruneEvery: number;
  private readonly onPruneError: (chain: string, error: Error) => void;
  /** Advances per chain since this process last pruned that chain's attested blocks. */
  private readonly advances = new Map<string, number>();
  constructor(
    private readonly pool: pg.Pool,
    schema: string,
    o: ListenerStoreOptions = {},
  ) {
    this.s = schemaIdent(schema);
    this.keepAttested = o.keepAttested ?? 4 * SEARCHED_ATTESTED_BLOCKS;
    this.pruneEvery = o.pruneEvery ?? 256;
    this.onPruneError = o.onPruneError ?? (() => undefined);
  }

  async cursor(chain: string): Promise<ListenerCursor | null> {
    const r = await this.pool.query<{ block_height: string; block_hash: string; next_event_id: string | null; custody_floor: Record<string, string> }>(
      `SELECT block_height::text, block_hash, next_event_id::text, custody_floor FROM ${this.s}.listener_cursors WHERE chain = $1`,
      [chain],
    );
    const row = r.rows[0];
    if (!row) return null;
    return {
      block: { height: BigInt(row.block_height), hash: row.block_hash },
      nextEventId: row.next_event_id === null ? null : BigInt(row.next_event_id),
      custodyFloor: row.custody_floor,
    };
  }

  /** Advances the cursor and records the attested blocks atomically: one statement, one round trip. */
  async advance(chain: string, cursor: ListenerCursor, attested: readonly BlockRef[]): Promise<void> {
    await this.pool.query(
      `WITH cur AS (
         INSERT INTO ${this.s}.listener_cursors (chain, block_height, block_hash, next_event_id, custody_floor, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (chain) DO UPDATE SET block_height = EXCLUDED.block_height, block_hash = EXCLUDED.block_hash,
           next_event_id = EXCLUDED.next_event_id, custody_floor = EXCLUDED.custody_floor, updated_at = now()
       )
       INSERT INTO ${this.s}.listener_attested_blocks (chain, block_height, block_hash)
       SELECT $1, h, hs FROM unnest($6::numeric[], $7::text[]) AS t(h, hs)
       ON CONFLICT (chain, block_height) DO UPDATE SET block_hash = EXCLUDED.block_hash`,
      [
        chain,
        cursor.block.height.toString(),
        cursor.block.hash,
        cursor.nextEventId?.toString() ?? null,
        JSON.stringify(cursor.custodyFloor),
        attested.map((b) => b.height.toString()),
        attested.map((b) => b.hash),
      ],
    );
    const n = (this.advances.get(chain) ?? 0) + 1;
    this.advances.set(chain, n % this.pruneEvery);
    // The cursor is written: a failed pruning only leaves the rows to the next one.
    if (n >= this.pruneEvery) await this.pruneAttested(chain).catch((e: unknown) => this.onPruneError(chain, e as Error));
  }

  /**
   * Deletes all but the newest `keepAttested` attested blocks of `chain`: a search for a
   * reorganisation reads the newest SEARCHED_ATTESTED_BLOCKS only, and without this the table
   * grows by a row per cursor write for as long as the listener runs.
   */
  async pruneAttested(chain: string): Promise<void> {
    await this.pool.query(
      `DELETE FROM ${this.s}.listener_attested_blocks WHERE chain = $1 AND block_height < (
         SELECT block_height FROM ${this.s}.listener_attested_blocks WHERE chain = $1 ORDER BY block_height DESC OFFSET $2 LIMIT 1)`,
      [chain, this.keepAttested - 1],
    );
  }

  /**
   * The newest `limit` blocks this listener attested on `chain` (event and checkpoint blocks,
   * and cursor blocks), lowest first: where a reorganisation is looked for.
   */
  async attestedBlocks(chain: string, limit = SEARCHED_ATTESTED_BLOCKS): Promise<BlockRef[]> {
    // The text column gets its own name: ORDER BY a name of the select list would sort the text ('9' after '10').
    const r = await this.pool.query<{ height: string; block_hash: string }>(
      `SELECT block_height::text AS height, block_hash FROM ${this.s}.listener_attested_blocks WHERE chain = $1 ORDER BY block_height DESC LIMIT $2`,
      [chain, limit],
    );
    return r.rows.map((x) => ({ height: BigInt(x.height), hash: x.block_hash })).reverse();
  }

  async halt(chain: string, reason: string, height: bigint | null): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.s}.listener_halts (chain, reason, block_height) VALUES ($1, $2, $3) ON CONFLICT (chain) DO NOTHING`,
      [chain, reason, height?.toString() ?? null],
    );
  }

  async halted(chain: string): Promise<{ reason: string; height: string | null } | null> {
    const r = await this.pool.query<{ reason: string; block_height: string | null }>(
      `SELECT reason, block_height::text FROM ${this.s}.listener_halts WHERE chain = $1`,
      [chain],
    );
    const row = r.rows[0];
    return row ? { reason: row.reason, height: row.block_height } : null;
  }

  /**
   * Operator command: clears the halt of `chain` after investigation. The attested blocks
   * from the halt height up, or from `forgetFrom` if lower (the reorganisation as the command
   * finds it now), are forgotten: the operator accepted the new history. `reanchor` moves a
   * cursor still at block `from` onto the chain's current block `to` (at that height, or
   * below it over empty slots), so the listener continues along the new chain instead of
   * halting again. Events the new history numbers differently still stop it (`EVENT_GAP`).
   * Says whether it was halted and from which height blocks were forgotten.
   */
  async clearHalt(chain: string, reanchor: { from: BlockRef; to: BlockRef } | null = null, forgetFrom: bigint | null = null): Promise<{ cleared: boolean; forgotFrom: bigint | null }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query<{ block_height: string | null }>(`DELETE FROM ${this.s}.listener_halts WHERE chain = $1 RETURNING block_height::text`, [chain]);
      const row = r.rows[0];
      // The lower of the halt height and `forgetFrom`, whichever are known.
      const heights = [row?.block_height ? BigInt(row.block_height) : null, forgetFrom].filter((h): h is bigint => h !== null);
      const from = heights.length === 0 ? null : heights.reduce((a, b) => (a < b ? a : b));
      if (row && from !== null) {
        await client.query(`DELETE FROM ${this.s}.listener_attested_blocks WHERE chain = $1 AND block_height >= $2`, [chain, from.toString()]);
      }
      if (row && reanchor) {
        const moved = await client.query(
          `UPDATE ${this.s}.listener_cursors SET block_height = $4, block_hash = $5, updated_at = now() WHERE chain = $1 AND block_height = $2 AND block_hash = $3`,
          [chain, reanchor.from.height.toString(), reanchor.from.hash, reanchor.to.height.toString(), reanchor.to.hash],
        );
        // The cursor moved since it was read: clearing now would leave it on a block of the old history.
        if (moved.rowCount !== 1) throw new KlxError('CURSOR_MOVED', `${chain}: the listener's cursor is no longer block ${reanchor.from.height} (${reanchor.from.hash}); nothing was cleared, run the command again`, true, { chain });
      }
      await client.query('COMMIT');
      return { cleared: row !== undefined, forgotFrom: row ? from : null };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
