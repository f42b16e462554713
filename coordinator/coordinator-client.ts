/**
 * CoordinatorClient: the coordinator's HTTP API (coordinator-api.ts) as users, the demo,
 * tests and each channel's resolver call it. A refusal comes back as a KlxError with the
 * coordinator's code; an unreachable coordinator is a retriable UNREACHABLE.
 */
import { toHex } from '../relayer/ledger/bytes.ts';
import { KlxError } from '../relayer/ledger/errors.ts';
import type { SignedTx } from '../relayer/ledger/transaction.ts';

export interface TransferStatus {
  id: string;
  /** The coordinator's own state: initiated, committed, aborted, or forgotten. */
  coordinator: string;
  history: { step: string; detail: string; at: string }[];
  /** Each channel's record of the transfer (null where it has none). */
  participants: Record<string, { status?: string } | null>;
}

export type TransferOutcome = 'committed' | 'aborted';

/**
 * What both channels' records agree on: committed on both, or aborted at the source with
 * nothing held at the destination. Null while the protocol is still under way.
 */
export function transferOutcome(source: string, dest: string): TransferOutcome | null {
  if (source === 'committed' && dest === 'committed') return 'committed';
  if (source === 'aborted' && dest !== 'prepared' && dest !== 'committed') return 'aborted';
  return null;
}

export class CoordinatorClient {
  private readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/$/, '');
  }

  /** Hands a sender's signed `xfer-request` to the coordinator; returns the transfer id ("epoch.seq"). */
  async submit(request: SignedTx<'xfer-request'>): Promise<string> {
    const r = (await this.call('/v1/transfers', { request: toHex(request.encoded) })) as { id: string };
    return r.id;
  }

  status(id: string): Promise<TransferStatus> {
    return this.call(`/v1/transfers/${encodeURIComponent(id)}`) as Promise<TransferStatus>;
  }

  /** The outcome both channels agree on, or null while undecided. */
  async outcome(id: string, source: string, dest: string): Promise<TransferOutcome | null> {
    const s = await this.status(id);
    return transferOutcome(s.participants[source]?.status ?? 'none', s.participants[dest]?.status ?? 'none');
  }

  /** A resolver's question: the coordinator's decision for a transfer `channel` holds prepared. */
  async inquire(channel: string, id: string, migration?: { chain: string; eventId: string }): Promise<string> {
    const r = (await this.call('/v1/inquiries', { channel, id, ...(migration ? { migration } : {}) })) as { decision?: string };
    return r.decision ?? 'unknown';
  }

  private async call(path: string, post?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, post === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(post) });
    } catch (e) {
      throw new KlxError('UNREACHABLE', `coordinator unreachable: ${(e as Error).message}`, true);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string; retriable: boolean } };
    if (!res.ok) throw new KlxError(body.error?.code ?? 'HTTP_ERROR', body.error?.message ?? `HTTP ${res.status}`, body.error?.retriable ?? false);
    return body;
  }
}
