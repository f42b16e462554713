/**
 * A coordinator over real PostgreSQL (its log) and two in-memory channels running the real
 * participant rules, for crash drills: `kill()` is what kill -9 leaves behind (the session and
 * its lock gone, nothing more sent), `start()` a fresh process (new epoch, recovery).
 */
import { readRecord } from '../../relayer/ledger/bridge-state.ts';
import type { XferRecord } from '../../relayer/ledger/xfer-rules.ts';
import type { MigrationRecord } from '../../relayer/ledger/migration-rules.ts';
import { CoordinatorService } from '../../coordinator/coordinator-service.ts';
import { TransferResolver, type PreparedItem } from '../../coordinator/transfer-resolver.ts';
import type { ChainBuilder } from './chain-builder.ts';
import { NETWORK, PREFIX } from './channel.ts';
import { MemoryChannel, MemoryChannelPort } from './memory-channel-port.ts';
import type { TestUser } from './channel.ts';

export class CoordinatorHarness {
  service: CoordinatorService | null = null;
  private ports: MemoryChannelPort[] = [];
  readonly channels: Map<string, MemoryChannel>;

  constructor(
    private readonly databaseUrl: string,
    chains: ChainBuilder[],
    coordinator: TestUser,
    private readonly opts: { voteTimeoutMs?: number; schema?: string; migration?: { chain: string; bridgeChannel: string } } = {},
  ) {
    this.channels = new Map(chains.map((c) => [c.channel, new MemoryChannel(c, coordinator)]));
  }

  async start(crashPoint?: (point: string, id: string) => void): Promise<CoordinatorService> {
    this.ports = [...this.channels.values()].map((c) => new MemoryChannelPort(c));
    const service = new CoordinatorService({
      databaseUrl: this.databaseUrl,
      schema: this.opts.schema ?? 'coordinator',
      instance: 'test',
      network: NETWORK,
      addressPrefix: PREFIX,
      ports: new Map(this.ports.map((p) => [p.channel, p])),
      voteTimeoutMs: this.opts.voteTimeoutMs ?? 150,
      retryMs: 10,
      discoveryMs: 3_600_000,
      ...(this.opts.migration ? { migration: this.opts.migration } : {}),
      ...(crashPoint ? { crashPoint } : {}),
    });
    await service.start();
    this.service = service;
    return service;
  }

  /** kill -9: the process's ports and PostgreSQL sessions die with it (its advisory lock is released). */
  async kill(): Promise<void> {
    for (const p of this.ports) p.kill();
    const s = this.service;
    this.service = null;
    s?.coordinator?.stop();
    await s?.stop();
  }

  /** Each channel's resolver, once, with no age bound. */
  async resolveAll(): Promise<number> {
    let asked = 0;
    for (const ch of this.channels.values()) {
      const resolver = new TransferResolver({ channel: ch.chain.channel, prepared: () => Promise.resolve(prepared(ch.chain)), ask: (c, id, m) => this.requireService().inquire(c, id, m), afterMs: 0 });
      asked += await resolver.once();
    }
    await this.service?.coordinator?.idle();
    return asked;
  }

  private requireService(): CoordinatorService {
    if (!this.service) throw new Error('no coordinator running');
    return this.service;
  }
}

/** What a channel holds prepared, from its own state (the resolver's view). */
export function prepared(chain: ChainBuilder): PreparedItem[] {
  const out: PreparedItem[] = [];
  for (const [k] of chain.state.entries) {
    if (k.startsWith('xfer/')) {
      const r = readRecord<XferRecord>(chain.state, k);
      if (r?.status === 'prepared') out.push({ id: r.id, preparedAtMs: BigInt(r.preparedAtMs ?? '0') });
    } else if (k.startsWith('migration/')) {
      const m = readRecord<MigrationRecord>(chain.state, k);
      if (m?.status === 'prepared' && m.id) out.push({ id: m.id, preparedAtMs: 0n, migration: { chain: m.chain, eventId: m.eventId } });
    }
  }
  return out;
}
