/**
 * ChannelNode: what `klx-bridge processor` runs — one ChannelProcessor per configured
 * channel (leader or hot standby), the channel node API, logs and metrics.
 */
import type { Logger } from 'pino';
import type { BridgeConfig } from '../config/config.ts';
import { genesisSpec, loadEvmDeployments, loadProducerKey } from '../config/config.ts';
import { BridgeMetrics } from '../observability/observability.ts';
import { ChannelProcessor } from '../processor/processor.ts';
import { Ed25519VerifierPool } from '../processor/signature-verifier.ts';
import { createPool } from '../store/db.ts';
import { BlockNotifier } from './block-notifier.ts';
import { ChannelNodeApi } from './http-api.ts';
import { ChannelStore } from '../store/channel-store.ts';
import { ActionCosigner } from '../processor/action-cosigner.ts';
import { configuredChains } from '../bridge/bridge-setup.ts';
import { loadFamilySecret, producerPublicKey } from '../config/config.ts';
import { toHex } from '../ledger/bytes.ts';
import { TransferLinks } from '../processor/transfer-links.ts';

export class ChannelNode {
  readonly processors: ChannelProcessor[];
  readonly metrics = new BridgeMetrics();
  /** The EVM bridges this node's configuration names (used by the EVM roles, issue #4). */
  readonly evmChains: ReturnType<typeof loadEvmDeployments>;
  private readonly pool;
  private readonly notifier;
  private readonly api: ChannelNodeApi;
  private runs: Promise<void>[] = [];
  port = 0;

  private readonly verifier = new Ed25519VerifierPool(1);
  private cosigner: ActionCosigner | null = null;
  private readonly abort = new AbortController();
  private cosigning: Promise<void> = Promise.resolve();
  private readonly transferLinks: TransferLinks[] = [];
  private linking: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cfg: BridgeConfig,
    private readonly log: Logger,
  ) {
    // Keys and deployment records are loaded (and checked) before anything connects: a bad one is a config error.
    this.evmChains = loadEvmDeployments(cfg);
    this.processors = cfg.channels.map(
      (c) =>
        new ChannelProcessor({
          databaseUrl: cfg.databaseUrl,
          schema: cfg.schema,
          context: { network: cfg.network, channel: c.name, addressPrefix: cfg.addressPrefix },
          producer: loadProducerKey(c),
          genesis: genesisSpec(c),
          instance: cfg.instance,
          maxBatch: cfg.processor.maxBatch,
          maxQueue: cfg.processor.maxQueue,
          verifier: this.verifier,
        }),
    );
    this.pool = createPool(cfg.databaseUrl);
    this.notifier = new BlockNotifier(cfg.databaseUrl);
    this.api = new ChannelNodeApi({
      pool: this.pool,
      schema: cfg.schema,
      notifier: this.notifier,
      channels: this.processors.map((p) => ({ channel: p.channel, addressPrefix: cfg.addressPrefix, processor: p })),
      metrics: () => this.metrics.render(),
    });
    for (const p of this.processors) this.metrics.attachProcessor(p, log);
    // The bridge channel's processor co-signs withdrawals once M approvers signed (issue #4).
    if (cfg.bridge && cfg.evmChains.length + cfg.solanaChains.length > 0) {
      const bridge = cfg.bridge;
      const processor = this.processors.find((p) => p.channel === bridge.channel);
      const channel = cfg.channels.find((c) => c.name === bridge.channel);
      if (processor && channel) {
        const chains = configuredChains(cfg);
        this.cosigner = new ActionCosigner(
          processor,
          new ChannelStore(this.pool, cfg.schema, channel.name),
          { network: cfg.network, channel: channel.name, addressPrefix: cfg.addressPrefix },
          loadProducerKey(channel),
          chains.map((c) => ({ chain: c, signer: c.adapter.signer(loadFamilySecret('KLX_PROCESSOR_CHAIN_KEY', c.adapter.family, "the processor's co-signing key")) })),
        );
        this.cosigner.on('registered', (e) => log.info({ chain: e.chain }, 'chain registered on the bridge channel'));
        this.cosigner.on('cosigned', (e) => log.info({ chain: e.chain, actions: e.actionIds }, 'co-signed'));
        this.cosigner.on('override-confirmed', (e) => log.warn({ chain: e.chain, action: e.actionId, kind: e.kind }, 'confirmed a hard override last (approver quorum reached)'));
        this.cosigner.on('alarm', (e) => log.warn({ chain: e.chain, code: e.code }, e.message));
      }
    }
    this.setUpTransferLinks(cfg, log);
  }

  /** Each channel links to every other one and runs its resolver, when a coordinator is configured (issue 6). */
  private setUpTransferLinks(cfg: BridgeConfig, log: Logger): void {
    const co = cfg.coordinator;
    if (!co) return;
    for (const p of this.processors) {
      const channel = cfg.channels.find((c) => c.name === p.channel);
      if (!channel) continue;
      const m = co.migration;
      const links = new TransferLinks({
        processor: p,
        store: new ChannelStore(this.pool, cfg.schema, channel.name),
        context: { network: cfg.network, channel: channel.name, addressPrefix: cfg.addressPrefix },
        producer: loadProducerKey(channel),
        links: cfg.channels
          .filter((c) => c.name !== channel.name)
          .map((c) => ({ peer: c.name, peerProducer: toHex(producerPublicKey(c)), coordinator: co.address, maxAmount: co.maxTransfer })),
        migration: m && channel.name === cfg.bridge?.channel ? { chain: m.chain, hubAsset: m.hubAsset, coordinator: co.address, cap: m.cap, premint: m.premint, perTransfer: m.perTransfer, per24h: m.per24h } : null,
        coordinatorUrl: co.url,
        resolverAfterMs: co.resolverAfterMs,
      });
      links.resolver.on('asked', (e) => log.info({ channel: e.channel, transfer: e.id, answer: e.answer }, 'resolver asked the coordinator'));
      links.resolver.on('failed', (e) => log.warn({ channel: e.channel, transfer: e.id }, `resolver inquiry failed: ${e.message}`));
      this.transferLinks.push(links);
    }
  }

  /** Starts processors and the API; resolves once the API listens. `done` settles when a processor fails fatally. */
  async start(): Promise<{ port: number; done: Promise<void> }> {
    await this.notifier.start();
    this.port = await this.api.listen(this.cfg.api.port, this.cfg.api.host);
    this.runs = this.processors.map((p) => p.start());
    if (this.cosigner) this.cosigning = this.cosigner.run(this.abort.signal);
    this.linking = Promise.all(this.transferLinks.map((l) => l.run(this.abort.signal, 500)));
    this.log.info({ host: this.cfg.api.host, port: this.port, channels: this.processors.map((p) => p.channel), instance: this.cfg.instance }, 'channel node API listening');
    return { port: this.port, done: Promise.all(this.runs).then(() => undefined) };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.cosigning;
    await this.linking;
    await this.api.close();
    await Promise.all(this.processors.map((p) => p.stop()));
    await this.notifier.stop();
    await this.verifier.close();
    await this.pool.end().catch(() => undefined);
  }
}
