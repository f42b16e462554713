/** ChannelClient: a small typed client of the channel node API (CLI, tests, exchanges' scripts). */
import { KlxError } from '../ledger/errors.ts';
import { txToJson, type SignedTx } from '../ledger/transaction.ts';
import type { Receipt } from '../processor/processor.ts';
import type { BlockMessage } from './block-message.ts';

export class ApiError extends KlxError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    retriable: boolean,
    details: Record<string, string | number | boolean> = {},
  ) {
    super(code, message, retriable, details);
  }
}

export class ChannelClient {
  private readonly base: string;
  constructor(
    baseUrl: string,
    readonly channel: string,
  ) {
    this.base = `${baseUrl.replace(/\/$/, '')}/v1/channels/${encodeURIComponent(channel)}`;
  }

  private async call<T>(path: string, init?: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, init);
    } catch (e) {
      throw new ApiError(0, 'UNREACHABLE', `channel node unreachable: ${(e as Error).message}`, true);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string; retriable: boolean; details?: Record<string, string> } };
    if (!res.ok) {
      const err = body.error ?? { code: 'HTTP_ERROR', message: `HTTP ${res.status}`, retriable: res.status >= 500 };
      throw new ApiError(res.status, err.code, err.message, err.retriable, err.details ?? {});
    }
    return body as T;
  }

  submit(tx: SignedTx | Record<string, unknown>): Promise<Receipt> {
    const json = 'encoded' in tx ? txToJson(tx as SignedTx) : tx;
    return this.call('/transactions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  }
  /** Submits up to 256 transactions in one request; one result per transaction, in order. */
  submitBatch(txs: SignedTx[]): Promise<{ results: ({ ok: true; receipt: Receipt } | { ok: false; error: { code: string; message: string; retriable: boolean } })[] }> {
    return this.call('/transactions/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transactions: txs.map(txToJson) }) });
  }
  /** One bridge record (`bridge/<kind>/<chain>/<id>`), or null when there is none. */
  async bridgeRecord<T>(kind: string, chain: string, id: string): Promise<T | null> {
    try {
      return await this.call<T>(`/bridge/${encodeURIComponent(kind)}/${encodeURIComponent(chain)}/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }
  /** One bridge record by its path under `bridge/` (e.g. `xfer/3.17`). */
  bridgeRecordAt<T>(path: string): Promise<T> {
    return this.call<T>(`/bridge/${path.split('/').map(encodeURIComponent).join('/')}`);
  }
  /** Every bridge record of one kind for a chain (`bridge/<kind>/<chain>`). */
  async bridgeRecords<T>(kind: string, chain: string): Promise<T[]> {
    return (await this.call<{ records: T[] }>(`/bridge/${encodeURIComponent(kind)}/${encodeURIComponent(chain)}`)).records;
  }
  balances(address: string): Promise<{ balances: Record<string, string> }> {
    return this.call(`/balances/${encodeURIComponent(address)}`);
  }
  async nextNonce(address: string, lane = 0): Promise<bigint> {
    const r = await this.call<{ nextNonceByLane: Record<string, string> }>(`/nonces/${encodeURIComponent(address)}`);
    return BigInt(r.nextNonceByLane[String(lane)] ?? '0');
  }
  /** The node's head height of this channel (-1 before genesis). */
  async headHeight(): Promise<bigint> {
    const base = this.base.slice(0, this.base.indexOf('/v1/channels/'));
    const res = await fetch(`${base}/health`).catch((e: unknown) => {
      throw new ApiError(0, 'UNREACHABLE', `channel node unreachable: ${(e as Error).message}`, true);
    });
    const body = (await res.json()) as { channels?: { channel: string; head: string }[] };
    const c = body.channels?.find((x) => x.channel === this.channel);
    if (!c) throw new ApiError(404, 'UNKNOWN_CHANNEL', `the node serves no channel ${this.channel}`, false);
    return BigInt(c.head);
  }
  block(height: bigint): Promise<BlockMessage> {
    return this.call(`/blocks/${height}`);
  }
  transaction(txId: string): Promise<{ height: string; blockHash: string }> {
    return this.call(`/transactions/${txId}`);
  }
}
