/**
 * The channel node API (docs/api.md). Any node serves reads from PostgreSQL; only the
 * leader of a channel accepts transactions (others answer 503 NOT_LEADER, retriable).
 *   POST /v1/channels/:ch/transactions           submit a signed transaction (ack = durable)
 *   POST /v1/channels/:ch/transactions/batch     submit up to 256, answered one result each, in order
 *   GET  /v1/channels/:ch/transactions/:txId     inclusion of a transaction
 *   GET  /v1/channels/:ch/blocks/:height         one block message
 *   GET  /v1/channels/:ch/blocks?from=&limit=    a range of block messages
 *   GET  /v1/channels/:ch/balances/:address      balances of an address
 *   GET  /v1/channels/:ch/nonces/:address        next nonce per lane
 *   GET  /v1/channels/:ch/stream?from=           block messages as Server-Sent Events
 *   GET  /v1/channels, /health, /metrics
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { decodeAddress } from '../ledger/address.ts';
import { fromHex } from '../ledger/bytes.ts';
import { KlxError, NotLeaderError, TxRejected } from '../ledger/errors.ts';
import { parseTxJson, type SignedTx } from '../ledger/transaction.ts';
import type { ChannelProcessor, Receipt } from '../processor/processor.ts';
import { ChannelStore } from '../store/channel-store.ts';
import type { BlockNotifier } from './block-notifier.ts';
import { rowToMessage, type BlockMessage } from './block-message.ts';
import { RecentFrames } from './recent-frames.ts';

export const MAX_REQUEST_BYTES = 64 * 1024;
export const MAX_BATCH_REQUEST_BYTES = 1024 * 1024;
export const MAX_BATCH_TRANSACTIONS = 256;
const MAX_RANGE = 1000;
const MAX_STREAMS = 256;

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done);
  });
}

export interface ChannelEndpoint {
  channel: string;
  addressPrefix: string;
  processor?: ChannelProcessor;
}

export interface ChannelNodeApiOptions {
  pool: pg.Pool;
  schema: string;
  channels: ChannelEndpoint[];
  notifier: BlockNotifier;
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

class HttpError extends KlxError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message, false);
  }
}

function statusOf(e: KlxError): number {
  if (e instanceof HttpError) return e.status;
  if (e.code === 'TX_TOO_LARGE') return 413;
  if (e instanceof TxRejected) return 422;
  if (e.retriable) return 503;
  return 500;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage, limit = MAX_REQUEST_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new TxRejected('TX_TOO_LARGE', `request body exceeds ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch {
        reject(new TxRejected('TX_MALFORMED', 'request body is not valid JSON'));
      }
    });
  });
}

const MAX_HEIGHT = (1n << 63n) - 1n - BigInt(MAX_RANGE);

function parseHeight(s: string | null | undefined, field: string): bigint {
  if (s === null || s === undefined || !/^(0|[1-9][0-9]{0,18})$/.test(s) || BigInt(s) > MAX_HEIGHT) {
    throw new HttpError(400, 'BAD_REQUEST', `${field} must be a block height`);
  }
  return BigInt(s);
}

function parseLimit(s: string | null): number {
  if (s === null) return 100;
  if (!/^[1-9][0-9]{0,3}$/.test(s) || Number(s) > MAX_RANGE) throw new HttpError(400, 'BAD_REQUEST', `limit must be an integer from 1 to ${MAX_RANGE}`);
  return Number(s);
}

export class ChannelNodeApi {
  private server: Server | null = null;
  private readonly stores = new Map<string, { store: ChannelStore; endpoint: ChannelEndpoint; frames: RecentFrames }>();
  private readonly streams = new Set<AbortController>();

  constructor(private readonly opts: ChannelNodeApiOptions) {
    for (const e of opts.channels) this.stores.set(e.channel, { store: new ChannelStore(opts.pool, opts.schema, e.channel), endpoint: e, frames: new RecentFrames() });
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        const err = e instanceof KlxError ? e : new KlxError('INTERNAL', 'internal error', true);
        if (!res.headersSent) send(res, statusOf(err), { error: err.toJSON() });
        else res.end();
      });
    });
    // Keep idle client connections longer than typical client/proxy pools do, so a client
    // never reuses a socket the server is closing at that moment (ECONNRESET).
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.abort();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private channel(name: string | undefined) {
    const c = name ? this.stores.get(name) : undefined;
    if (!c) throw new HttpError(404, 'UNKNOWN_CHANNEL', `this node serves no channel "${name}"`);
    return c;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://node');
    let parts: string[];
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', 'malformed percent-encoding in the path');
    }
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/health') return send(res, 200, await this.health());
    if (method === 'GET' && url.pathname === '/metrics' && this.opts.metrics) {
      const m = await this.opts.metrics();
      res.writeHead(200, { 'content-type': m.contentType });
      res.end(m.body);
      return;
    }
    if (method === 'GET' && url.pathname === '/v1/channels') return send(res, 200, await this.health());
    if (parts[0] !== 'v1' || parts[1] !== 'channels') throw new HttpError(404, 'NOT_FOUND', 'no such route');
    const { store, endpoint, frames } = this.channel(parts[2]);
    const [resource, arg] = [parts[3], parts[4]];
    if (method === 'POST' && resource === 'transactions' && arg === 'batch') {
      if (!endpoint.processor) throw new NotLeaderError(store.channel, 'this node does not produce blocks for this channel');
      return send(res, 200, { results: await this.submitBatch(endpoint.processor, await readJson(req, MAX_BATCH_REQUEST_BYTES)) });
    }
    if (method === 'POST' && resource === 'transactions' && arg === undefined) {
      if (!endpoint.processor) throw new NotLeaderError(store.channel, 'this node does not produce blocks for this channel');
      const tx = parseTxJson(await readJson(req));
      return send(res, 200, await endpoint.processor.submit(tx));
    }
    if (method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`);
    switch (resource) {
      case 'transactions': {
        let id: Uint8Array;
        try {
          id = fromHex(arg ?? '', 32);
        } catch {
          throw new HttpError(400, 'BAD_REQUEST', 'a transaction id is 64 hex characters');
        }
        const found = await store.findTx(id);
        if (!found) throw new HttpError(404, 'TX_NOT_FOUND', 'no block includes this transaction');
        return send(res, 200, { txId: arg, channel: store.channel, height: found.height.toString(), blockHash: found.blockHash });
      }
      case 'blocks': {
        if (arg !== undefined) {
          const h = parseHeight(arg, 'height');
          const row = (await store.readBlockRows(h, h))[0];
          if (!row) throw new HttpError(404, 'BLOCK_NOT_FOUND', `no block at height ${h}`);
          return send(res, 200, rowToMessage(row));
        }
        const from = parseHeight(url.searchParams.get('from') ?? '0', 'from');
        const limit = parseLimit(url.searchParams.get('limit'));
        const rows = await store.readBlockRows(from, from + BigInt(limit) - 1n);
        return send(res, 200, { messages: rows.map(rowToMessage) });
      }
      case 'balances':
      case 'nonces': {
        decodeAddress(arg, endpoint.addressPrefix);
        const address = arg as string;
        if (resource === 'balances') return send(res, 200, { address, channel: store.channel, balances: await store.balancesOf(address) });
        return send(res, 200, { address, channel: store.channel, nextNonceByLane: await store.noncesOf(address) });
      }
      case 'stream':
        return this.stream(req, res, store, frames, parseHeight(url.searchParams.get('from') ?? '0', 'from'));
      case 'bridge':
        return send(res, 200, await bridgeQuery(store, parts.slice(4), url.searchParams));
    }
    throw new HttpError(404, 'NOT_FOUND', 'no such route');
  }

  /**
   * Each transaction of a batch is verified and queued independently, in array order
   * (so consecutive nonces of one lane may share a batch); one result per transaction.
   */
  private async submitBatch(processor: ChannelProcessor, body: unknown) {
    const list = (body as { transactions?: unknown } | null)?.transactions;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_TRANSACTIONS) {
      throw new TxRejected('TX_MALFORMED', `a batch is {"transactions": [...]} with 1 to ${MAX_BATCH_TRANSACTIONS} signed transactions`);
    }
    const parsed = list.map((json) => {
      try {
        return parseTxJson(json);
      } catch (e) {
        return e as Error;
      }
    });
    const txs = parsed.filter((p): p is SignedTx => !(p instanceof Error));
    const submitted = processor.submitMany(txs);
    let k = 0;
    const pending = parsed.map((p) => (p instanceof Error ? Promise.reject(p) : (submitted[k++] as Promise<Receipt>)));
    return Promise.all(
      pending.map((p) =>
        p.then(
          (receipt) => ({ ok: true as const, receipt }),
          (e: unknown) => ({ ok: false as const, error: (e instanceof KlxError ? e : new KlxError('INTERNAL', 'internal error', true)).toJSON() }),
        ),
      ),
    );
  }

  private async health() {
    const channels = await Promise.all(
      [...this.stores.values()].map(async ({ store, endpoint }) => ({
        channel: store.channel,
        producing: endpoint.processor?.isLeader ?? false,
        head: (await store.headHeight()).toString(),
      })),
    );
    return { status: 'ok', channels };
  }

  /** Server-Sent Events: catch up from PostgreSQL, then follow commits (notified, with a poll as backstop). */
  private async stream(req: IncomingMessage, res: ServerResponse, store: ChannelStore, frames: RecentFrames, from: bigint): Promise<void> {
    if (this.streams.size >= MAX_STREAMS) throw new HttpError(503, 'TOO_MANY_STREAMS', `this node serves at most ${MAX_STREAMS} block streams`);
    const abort = new AbortController();
    this.streams.add(abort);
    req.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    let next = from;
    const load = async (first: bigint) => {
      const rows = await store.readBlockRows(first, first + 499n);
      return rows.map((row, i) => {
        if (row.height !== first + BigInt(i)) throw new Error(`the store returned block ${row.height} where ${first + BigInt(i)} was due`);
        return [row.height, frameOf(rowToMessage(row))] as const;
      });
    };
    try {
      while (!abort.signal.aborted) {
        // Read before loading: a commit between the load and the wait then wakes the wait at once.
        const seen = this.opts.notifier.version(store.schema, store.channel);
        const ready = await frames.from(next, load, { seen });
        if (ready.length === 0) {
          await this.opts.notifier.waitForBlock(store.schema, store.channel, 1000, abort.signal, seen);
          continue;
        }
        next += BigInt(ready.length);
        // What is ready goes out in one write (syscalls are the node's dearest work); backpressure:
        // a slow reader makes the stream wait, never the node buffer the chain.
        if (!res.write(ready.join(''))) await drained(res, abort.signal);
      }
    } finally {
      this.streams.delete(abort);
      res.end();
    }
  }
}

const frameOf = (m: BlockMessage) => `id: ${m.sequence}\nevent: block\ndata: ${JSON.stringify(m)}\n\n`;

/** Kinds with one record per chain or channel (`<kind>/<name>`), not one per id. */
const SINGLE_RECORD_KINDS = new Set(['migration-config', 'migration-supply', 'xlink']);
const BRIDGE_RECORD_KINDS = new Set(['chain', 'action', 'event', 'claimable', 'stray', 'returns', 'custody', 'override', 'pending', 'fifo', 'custody-sync', 'migration', 'migration-config', 'migration-supply', 'xlink']);

/**
 * Read-only bridge records: `bridge/<kind>/<chain>[/<id>]` (one record, or every record of
 * the chain when no id is given) and `bridge/events/<chain>?txHash=` (status by tx hash).
 */
async function bridgeQuery(store: ChannelStore, path: string[], query: URLSearchParams): Promise<unknown> {
  const [kind, chain] = path;
  if (kind === 'xfer' && path.length === 2) {
    // An inter-channel transfer's record on this channel, by transfer id "epoch.seq" (tombstones included).
    if (!chain || !/^[0-9]{1,20}\.[0-9]{1,20}$/.test(chain)) throw new HttpError(400, 'BAD_REQUEST', 'a transfer id is "epoch.seq"');
    const value = await store.record(`xfer/${chain}`);
    if (value === null) throw new HttpError(404, 'NOT_FOUND', `no transfer ${chain} on this channel`);
    return value;
  }
  // Ids may have two segments (`pending/<chain>/<asset>/<seq>`).
  const id = path.length > 2 ? path.slice(2).join('/') : undefined;
  if (!kind || !chain || !/^[a-z][a-z0-9-]{0,31}$/.test(chain)) throw new HttpError(404, 'NOT_FOUND', 'use bridge/<kind>/<chain>[/<id>]');
  if (kind === 'events') {
    const txHash = query.get('txHash');
    if (!txHash || txHash.length > 128) throw new HttpError(400, 'BAD_REQUEST', 'txHash is required');
    return { chain, txHash, events: await store.eventsByTxHash(chain, txHash) };
  }
  if (!BRIDGE_RECORD_KINDS.has(kind) || path.length > (kind === 'pending' ? 4 : 3)) throw new HttpError(404, 'NOT_FOUND', `no bridge records of kind "${kind}"`);
  if (id === undefined) {
    if (kind === 'chain') {
      const [rec, cursor] = await Promise.all([store.record(`chain/${chain}`), store.record(`chain/${chain}/cursor`)]);
      if (!rec) throw new HttpError(404, 'UNKNOWN_CHAIN', `chain "${chain}" is not registered`);
      return { chain: rec, cursor };
    }
    if (SINGLE_RECORD_KINDS.has(kind)) {
      const value = await store.record(`${kind}/${chain}`);
      if (value === null) throw new HttpError(404, 'NOT_FOUND', `no ${kind} record for ${chain}`);
      return value;
    }
    return { records: (await store.records(`${kind}/${chain}/`)).map((r) => r.value) };
  }
  const value = await store.record(`${kind}/${chain}/${id}`);
  if (value === null) throw new HttpError(404, 'NOT_FOUND', `no ${kind} record ${chain}/${id}`);
  return value;
}
