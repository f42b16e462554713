/**
 * ChannelStore: one channel's blocks and state in one ledger schema. The same code
 * writes the processors' schema and each follower's own schema. Blocks and the state
 * they change are written by ONE statement (a data-modifying CTE), so a batch of blocks
 * and its state are durable together or not at all (group commit).
 */
import { decodeBlock, headOf, type Block } from '../ledger/block.ts';
import { toHex } from '../ledger/bytes.ts';
import { parseCanonical } from '../ledger/canonical-json.ts';
import { LedgerState, type StateChange } from '../ledger/state.ts';
import { schemaIdent, type Queryable } from './db.ts';

export const BLOCKS_NOTIFY_CHANNEL = 'klx_blocks';

export interface StoredBlockRow {
  height: bigint;
  hash: Buffer;
  parent_hash: Buffer | null;
  body: Buffer;
  signature: Buffer;
  tx_id: Buffer;
  tx_type: string;
  tx_sender: string;
  timestamp_ms: bigint;
}

export interface TxInclusion {
  height: bigint;
  blockHash: string;
}

/** Last value per key across a batch of changes, with the height that wrote it. */
function collapse(blocks: readonly Block[], changes: readonly (readonly StateChange[])[]) {
  const balances = new Map<string, { address: string; asset: string; amount: bigint; height: bigint }>();
  const nonces = new Map<string, { address: string; lane: number; next: bigint; height: bigint }>();
  const assets = new Map<string, { asset: string; decimals: number; height: bigint }>();
  const entries = new Map<string, { key: string; value: Uint8Array | null; height: bigint }>();
  let params: { producer: Uint8Array; addressPrefix: string; height: bigint } | undefined;
  changes.forEach((list, i) => {
    const height = blocks[i]?.height ?? 0n;
    for (const c of list) {
      if (c.kind === 'balance') balances.set(`${c.address}\u0000${c.asset}`, { ...c, height });
      else if (c.kind === 'nonce') nonces.set(`${c.address}\u0000${c.lane}`, { ...c, height });
      else if (c.kind === 'asset') assets.set(c.asset, { ...c, height });
      else if (c.kind === 'entry') entries.set(c.key, { key: c.key, value: c.value, height });
      else params = { ...c, height };
    }
  });
  const all = [...entries.values()];
  return {
    balances: [...balances.values()],
    nonces: [...nonces.values()],
    assets: [...assets.values()],
    params,
    upserts: all.filter((e): e is { key: string; value: Uint8Array; height: bigint } => e.value !== null),
    deletes: all.filter((e) => e.value === null).map((e) => e.key),
  };
}

export class ChannelStore {
  private readonly s: string;
  constructor(
    private readonly db: Queryable,
    readonly schema: string,
    readonly channel: string,
  ) {
    this.s = schemaIdent(schema);
  }

  /** Appends consecutive blocks and their state changes atomically; notifies listeners on commit. */
  async appendBlocks(blocks: readonly Block[], changes: readonly (readonly StateChange[])[], writtenBy: string): Promise<void> {
    if (blocks.length === 0) return;
    const c = collapse(blocks, changes);
    const last = blocks[blocks.length - 1];
    const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const p = c.params;
    // A named (prepared) statement: PostgreSQL plans this five-part statement once per connection.
    await this.db.query({
      name: `klx-append-blocks-${this.schema}`,
      text: `WITH b AS (
         INSERT INTO ${this.s}.blocks (channel, height, hash, parent_hash, timestamp_ms, tx_id, tx_type, tx_sender, body, signature, written_by)
         SELECT $1, h, hs, CASE WHEN h = 0 THEN NULL ELSE ph END, ts, id, tt, snd, bd, sg, $10
           FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::bigint[], $6::bytea[], $7::text[], $8::text[], $9::bytea[], $11::bytea[])
             AS t(h, hs, ph, ts, id, tt, snd, bd, sg)
         RETURNING 1
       ), bal AS (
         INSERT INTO ${this.s}.balances (channel, address, asset, amount, updated_height)
         SELECT $1, a, s, v, h FROM unnest($12::text[], $13::text[], $14::numeric[], $15::bigint[]) AS t(a, s, v, h)
         ON CONFLICT (channel, address, asset) DO UPDATE SET amount = EXCLUDED.amount, updated_height = EXCLUDED.updated_height
         RETURNING 1
       ), non AS (
         INSERT INTO ${this.s}.nonces (channel, address, lane, next_nonce, updated_height)
         SELECT $1, a, l, n, h FROM unnest($16::text[], $17::int[], $18::numeric[], $19::bigint[]) AS t(a, l, n, h)
         ON CONFLICT (channel, address, lane) DO UPDATE SET next_nonce = EXCLUDED.next_nonce, updated_height = EXCLUDED.updated_height
         RETURNING 1
       ), ast AS (
         INSERT INTO ${this.s}.assets (channel, asset, decimals, updated_height)
         SELECT $1, a, d, h FROM unnest($20::text[], $21::smallint[], $22::bigint[]) AS t(a, d, h)
         ON CONFLICT (channel, asset) DO UPDATE SET decimals = EXCLUDED.decimals, updated_height = EXCLUDED.updated_height
         RETURNING 1
       ), par AS (
         INSERT INTO ${this.s}.channel_params (channel, producer, address_prefix, updated_height)
         SELECT $1, $23::bytea, $24::text, $25::bigint WHERE $23::bytea IS NOT NULL
         ON CONFLICT (channel) DO UPDATE SET producer = EXCLUDED.producer, address_prefix = EXCLUDED.address_prefix, updated_height = EXCLUDED.updated_height
         RETURNING 1
       ), ent AS (
         INSERT INTO ${this.s}.entries (channel, key, value, updated_height)
         SELECT $1, k, v, h FROM unnest($27::text[], $28::bytea[], $29::bigint[]) AS t(k, v, h)
         ON CONFLICT (channel, key) DO UPDATE SET value = EXCLUDED.value, updated_height = EXCLUDED.updated_height
         RETURNING 1
       ), del AS (
         DELETE FROM ${this.s}.entries WHERE channel = $1 AND key = ANY($30::text[])
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM b) + (SELECT count(*) FROM bal) + (SELECT count(*) FROM non)
            + (SELECT count(*) FROM ast) + (SELECT count(*) FROM par)
            + (SELECT count(*) FROM ent) + (SELECT count(*) FROM del) AS n,
              pg_notify('${BLOCKS_NOTIFY_CHANNEL}', $26::text)`,
      values: [
        this.channel,
        blocks.map((b) => b.height.toString()),
        blocks.map((b) => buf(b.hash)),
        blocks.map((b) => buf(b.prevHash)),
        blocks.map((b) => b.timestampMs.toString()),
        blocks.map((b) => buf(b.tx.id)),
        blocks.map((b) => b.tx.type),
        blocks.map((b) => b.tx.sender),
        blocks.map((b) => buf(b.body)),
        writtenBy,
        blocks.map((b) => buf(b.signature)),
        c.balances.map((x) => x.address),
        c.balances.map((x) => x.asset),
        c.balances.map((x) => x.amount.toString()),
        c.balances.map((x) => x.height.toString()),
        c.nonces.map((x) => x.address),
        c.nonces.map((x) => x.lane),
        c.nonces.map((x) => x.next.toString()),
        c.nonces.map((x) => x.height.toString()),
        c.assets.map((x) => x.asset),
        c.assets.map((x) => x.decimals),
        c.assets.map((x) => x.height.toString()),
        p ? buf(p.producer) : null,
        p?.addressPrefix ?? null,
        p?.height.toString() ?? null,
        `${this.schema}:${this.channel}:${last?.height ?? 0n}`,
        c.upserts.map((e) => e.key),
        c.upserts.map((e) => buf(e.value)),
        c.upserts.map((e) => e.height.toString()),
        c.deletes,
      ],
    });
  }

  /** Loads the whole state and head of the channel (processor take-over, follower resume). */
  async loadState(): Promise<LedgerState> {
    const state = new LedgerState();
    const ch = [this.channel];
    const params = await this.db.query<{ producer: Buffer; address_prefix: string }>(
      `SELECT producer, address_prefix FROM ${this.s}.channel_params WHERE channel = $1`,
      ch,
    );
    const changes: StateChange[] = [];
    for (const r of params.rows) changes.push({ kind: 'params', producer: new Uint8Array(r.producer), addressPrefix: r.address_prefix });
    const assets = await this.db.query<{ asset: string; decimals: number }>(`SELECT asset, decimals FROM ${this.s}.assets WHERE channel = $1`, ch);
    for (const r of assets.rows) changes.push({ kind: 'asset', asset: r.asset, decimals: r.decimals });
    const balances = await this.db.query<{ address: string; asset: string; amount: string }>(
      `SELECT address, asset, amount::text AS amount FROM ${this.s}.balances WHERE channel = $1`,
      ch,
    );
    for (const r of balances.rows) changes.push({ kind: 'balance', address: r.address, asset: r.asset, amount: BigInt(r.amount) });
    const nonces = await this.db.query<{ address: string; lane: number; next_nonce: string }>(
      `SELECT address, lane, next_nonce::text AS next_nonce FROM ${this.s}.nonces WHERE channel = $1`,
      ch,
    );
    for (const r of nonces.rows) changes.push({ kind: 'nonce', address: r.address, lane: r.lane, next: BigInt(r.next_nonce) });
    const entries = await this.db.query<{ key: string; value: Buffer }>(`SELECT key, value FROM ${this.s}.entries WHERE channel = $1`, ch);
    for (const r of entries.rows) {
      const value = new Uint8Array(r.value);
      // Checked once here, so reads of the state can skip the canonical-form check (parseStateRecord).
      try {
        parseCanonical(value);
      } catch (e) {
        throw new Error(`${this.channel}: stored state record ${r.key} is not canonical JSON (${(e as Error).message})`);
      }
      changes.push({ kind: 'entry', key: r.key, value });
    }
    state.apply(changes);
    const head = await this.db.query<StoredBlockRow>(
      `SELECT height, hash, parent_hash, body, signature, tx_id, tx_type, tx_sender, timestamp_ms FROM ${this.s}.blocks WHERE channel = $1 ORDER BY height DESC LIMIT 1`,
      ch,
    );
    const row = head.rows[0];
    if (row) {
      const b = decodeBlock(new Uint8Array(row.body), new Uint8Array(row.signature));
      state.advance(headOf(b));
    }
    return state;
  }

  async headHeight(): Promise<bigint> {
    const r = await this.db.query<{ h: bigint | null }>(`SELECT max(height) AS h FROM ${this.s}.blocks WHERE channel = $1`, [this.channel]);
    return r.rows[0]?.h ?? -1n;
  }

  async readBlockRows(from: bigint, to: bigint): Promise<StoredBlockRow[]> {
    const r = await this.db.query<StoredBlockRow>(
      `SELECT height, hash, parent_hash, body, signature, tx_id, tx_type, tx_sender, timestamp_ms FROM ${this.s}.blocks
        WHERE channel = $1 AND height BETWEEN $2 AND $3 ORDER BY height`,
      [this.channel, from.toString(), to.toString()],
    );
    return r.rows;
  }

  async findTx(txId: Uint8Array): Promise<TxInclusion | null> {
    const r = await this.db.query<{ height: bigint; hash: Buffer }>(
      `SELECT height, hash FROM ${this.s}.blocks WHERE channel = $1 AND tx_id = $2`,
      [this.channel, Buffer.from(txId)],
    );
    const row = r.rows[0];
    return row ? { height: row.height, blockHash: toHex(row.hash) } : null;
  }

  /** Inclusions of several transactions in one query, keyed by hex transaction id. */
  async findTxs(txIds: readonly Uint8Array[]): Promise<Map<string, TxInclusion>> {
    const r = await this.db.query<{ tx_id: Buffer; height: bigint; hash: Buffer }>(
      `SELECT tx_id, height, hash FROM ${this.s}.blocks WHERE channel = $1 AND tx_id = ANY($2::bytea[])`,
      [this.channel, txIds.map((id) => Buffer.from(id))],
    );
    return new Map(r.rows.map((row) => [toHex(row.tx_id), { height: row.height, blockHash: toHex(row.hash) }]));
  }

  async balancesOf(address: string): Promise<Record<string, string>> {
    const r = await this.db.query<{ asset: string; amount: string }>(
      `SELECT asset, amount::text AS amount FROM ${this.s}.balances WHERE channel = $1 AND address = $2 ORDER BY asset`,
      [this.channel, address],
    );
    return Object.fromEntries(r.rows.map((x) => [x.asset, x.amount]));
  }

  async noncesOf(address: string): Promise<Record<string, string>> {
    const r = await this.db.query<{ lane: number; next_nonce: string }>(
      `SELECT lane, next_nonce::text AS next_nonce FROM ${this.s}.nonces WHERE channel = $1 AND address = $2 ORDER BY lane`,
      [this.channel, address],
    );
    return Object.fromEntries(r.rows.map((x) => [String(x.lane), x.next_nonce]));
  }

  /** One bridge record (canonical JSON), or null. */
  async record(key: string): Promise<unknown> {
    const r = await this.db.query<{ value: Buffer }>(`SELECT value FROM ${this.s}.entries WHERE channel = $1 AND key = $2`, [this.channel, key]);
    const row = r.rows[0];
    return row ? (JSON.parse(row.value.toString('utf8')) as unknown) : null;
  }

  /** Bridge records under a key prefix, in key order (at most `limit`). */
  async records(prefix: string, limit = 1000): Promise<{ key: string; value: unknown }[]> {
    const r = await this.db.query<{ key: string; value: Buffer }>(
      `SELECT key, value FROM ${this.s}.entries WHERE channel = $1 AND key LIKE $2 ESCAPE '\\' ORDER BY key LIMIT $3`,
      [this.channel, `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, limit],
    );
    return r.rows.map((row) => ({ key: row.key, value: JSON.parse(row.value.toString('utf8')) as unknown }));
  }

  /** Bridge events (deposits, executions) of one chain transaction: status by tx hash. */
  async eventsByTxHash(chain: string, txHash: string): Promise<unknown[]> {
    const r = await this.db.query<{ value: Buffer }>(
      `SELECT value FROM ${this.s}.entries WHERE channel = $1 AND key LIKE $2 AND lower(convert_from(value, 'UTF8')::jsonb->>'txHash') = lower($3) ORDER BY key`,
      [this.channel, `event/${chain}/%`, txHash],
    );
    return r.rows.map((row) => JSON.parse(row.value.toString('utf8')) as unknown);
  }

  /** Bridge records under a key prefix whose `status` field has the given value, lowest numeric id first. */
  async recordsWithStatus(prefix: string, status: string, limit = 1000): Promise<unknown[]> {
    const r = await this.db.query<{ value: Buffer }>(
      `SELECT value FROM ${this.s}.entries WHERE channel = $1 AND key LIKE $2 AND convert_from(value, 'UTF8')::jsonb->>'status' = $3 ORDER BY length(key), key LIMIT $4`,
      [this.channel, `${prefix}%`, status, limit],
    );
    return r.rows.map((row) => JSON.parse(row.value.toString('utf8')) as unknown);
  }
}
