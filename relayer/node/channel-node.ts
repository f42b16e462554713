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
  }

  /** Starts processors and the API; resolves once the API listens. `done` settles when a processor fails fatally. */
  async start(): Promise<{ port: number; done: Promise<void> }> {
    await this.notifier.start();
    this.port = await this.api.listen(this.cfg.api.port, this.cfg.api.host);
    this.runs = this.processors.map((p) => p.start());
    this.log.info({ host: this.cfg.api.host, port: this.port, channels: this.processors.map((p) => p.channel), instance: this.cfg.instance }, 'channel node API listening');
    return { port: this.port, done: Promise.all(this.runs).then(() => undefined) };
  }

  async stop(): Promise<void> {
    await this.api.close();
    await Promise.all(this.processors.map((p) => p.stop()));
    await this.notifier.stop();
    await this.verifier.close();
    await this.pool.end().catch(() => undefined);
  }
}
