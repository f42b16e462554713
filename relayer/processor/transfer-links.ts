/**
 * TransferLinks: a channel processor's part of inter-channel transfers (issue 6). While it
 * leads, it links its channel to every other configured channel (`channel-link`: the peer's
 * producer key, the coordinator's address, the incoming limit) and, on the bridge channel,
 * configures the migration; and it runs the channel's resolver, which asks the coordinator
 * about transfers held prepared for longer than the bound.
 */
import type { Ed25519Signer } from '../ledger/keys.ts';
import { addressFromPublicKey } from '../ledger/address.ts';
import { canonicalBytes, type CanonicalValue } from '../ledger/canonical-json.ts';
import { signTx, type ChannelContext } from '../ledger/transaction.ts';
import type { TxBodies } from '../ledger/tx-bodies.ts';
import type { XferRecord } from '../ledger/xfer-rules.ts';
import type { MigrationRecord } from '../ledger/migration-rules.ts';
import type { ChannelStore } from '../store/channel-store.ts';
import { TransferResolver, type PreparedItem } from '../../coordinator/transfer-resolver.ts';
import { CoordinatorClient } from '../../coordinator/coordinator-client.ts';
import type { ChannelProcessor } from './processor.ts';

const LINK_LANE = 4;

export interface TransferLinkOptions {
  processor: ChannelProcessor;
  store: ChannelStore;
  context: ChannelContext;
  producer: Ed25519Signer;
  links: TxBodies['channel-link'][];
  migration: TxBodies['migration-config'] | null;
  coordinatorUrl: string;
  resolverAfterMs: number;
}

export class TransferLinks {
  readonly resolver: TransferResolver;

  constructor(private readonly o: TransferLinkOptions) {
    const coordinator = new CoordinatorClient(o.coordinatorUrl);
    this.resolver = new TransferResolver({
      channel: o.context.channel,
      afterMs: o.resolverAfterMs,
      prepared: () => this.prepared(),
      ask: (channel, id, migration) => coordinator.inquire(channel, id, migration),
    });
  }

  private async prepared(): Promise<PreparedItem[]> {
    const out: PreparedItem[] = [];
    for (const r of (await this.o.store.recordsWithStatus('xfer/', 'prepared')) as XferRecord[]) out.push({ id: r.id, preparedAtMs: BigInt(r.preparedAtMs ?? '0') });
    const m = this.o.migration;
    if (m) {
      for (const r of (await this.o.store.recordsWithStatus(`migration/${m.chain}/`, 'prepared')) as MigrationRecord[]) {
        if (r.id) out.push({ id: r.id, preparedAtMs: 0n, migration: { chain: r.chain, eventId: r.eventId } });
      }
    }
    return out;
  }

  /**
   * Submits the links and migration config this channel lacks (or whose content changed).
   * Returns how many, or null while the migration config must wait for its chain to register
   * (the links are sent meanwhile).
   */
  async ensureLinks(): Promise<number | null> {
    let sent = 0;
    const address = addressFromPublicKey(this.o.context.addressPrefix, this.o.producer.publicKey);
    const wanted: [string, keyof TxBodies, object][] = this.o.links.map((l) => [`xlink/${l.peer}`, 'channel-link', l]);
    let waiting = false;
    if (this.o.migration) {
      // The migration's chain registers first; the links need not wait for it.
      if ((await this.o.store.record(`chain/${this.o.migration.chain}`)) === null) waiting = true;
      else wanted.push([`migration-config/${this.o.migration.chain}`, 'migration-config', this.o.migration]);
    }
    for (const [key, type, body] of wanted) {
      const have = await this.o.store.record(key);
      if (have !== null && Buffer.compare(canonicalBytes(have as CanonicalValue), canonicalBytes(body as CanonicalValue)) === 0) continue;
      const nonce = BigInt((await this.o.store.noncesOf(address))[String(LINK_LANE)] ?? '0');
      await this.o.processor.submit(signTx({ ...this.o.context, type, sender: address, lane: LINK_LANE, nonce, body: body as never }, this.o.producer));
      sent++;
    }
    return waiting ? null : sent;
  }

  async run(signal: AbortSignal, everyMs = 1000): Promise<void> {
    let linked = false;
    while (!signal.aborted) {
      if (this.o.processor.isLeader) {
        // Linked once a pass finds nothing left to send (not while the chain is unregistered).
        if (!linked) linked = (await this.ensureLinks().catch(() => null)) === 0;
        await this.resolver.once().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
