/**
 * TransferResolver: a participant channel's side of termination (DESIGN.md section 3). A
 * prepared participant never decides alone: for every transfer or migration it has held
 * prepared for longer than `afterMs`, it asks the coordinator, which answers by delivering the
 * decision (a forgotten id it issued means commit). Runs next to the channel's processor.
 */
import { TypedEmitter } from '../relayer/events.ts';
import { KlxError } from '../relayer/ledger/errors.ts';

export interface PreparedItem {
  id: string;
  preparedAtMs: bigint;
  /** Set for a migration prepared on the bridge channel. */
  migration?: { chain: string; eventId: string };
}

export interface ResolverEvents {
  asked: { channel: string; id: string; answer: string };
  failed: { channel: string; id: string; message: string };
}

export interface ResolverOptions {
  channel: string;
  /** What this channel holds prepared (from its own records). */
  prepared: () => Promise<PreparedItem[]>;
  /** Asks the coordinator; resolves with its answer. */
  ask: (channel: string, id: string, migration?: { chain: string; eventId: string }) => Promise<string>;
  afterMs: number;
  now?: () => number;
}

export class TransferResolver extends TypedEmitter<ResolverEvents> {
  constructor(private readonly o: ResolverOptions) {
    super();
  }

  /** One pass: asks about every transfer prepared for longer than the bound. Returns how many it asked about. */
  async once(): Promise<number> {
    const now = BigInt((this.o.now ?? Date.now)());
    let asked = 0;
    for (const item of await this.o.prepared()) {
      if (now - item.preparedAtMs < BigInt(this.o.afterMs)) continue;
      asked++;
      try {
        const answer = await this.o.ask(this.o.channel, item.id, item.migration);
        this.emit('asked', { channel: this.o.channel, id: item.id, answer });
      } catch (e) {
        this.emit('failed', { channel: this.o.channel, id: item.id, message: e instanceof KlxError ? `${e.code}: ${e.message}` : (e as Error).message });
      }
    }
    return asked;
  }

  async run(signal: AbortSignal, everyMs: number): Promise<void> {
    while (!signal.aborted) {
      await this.once().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
