/**
 * Logging (pino) and metrics (prom-client), attached to the core's typed events from
 * outside. Keys and connection passwords never reach a log line: core events carry
 * none, and the logger redacts the usual secret-bearing fields as a second guard.
 */
import { pino, type Logger } from 'pino';
import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { VerifyingFollower } from '../follower/follower.ts';
import type { ChannelProcessor } from '../processor/processor.ts';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'klx-bridge' },
      redact: { paths: ['*.secret', '*.seed', '*.privateKey', '*.databaseUrl', '*.password', 'secret', 'seed', 'privateKey', 'databaseUrl', 'password'], censor: '[redacted]' },
    },
    destination ?? process.stdout,
  );
}

export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly blocks = new Counter({ name: 'klx_blocks_committed_total', help: 'Blocks durably committed', labelNames: ['channel'], registers: [this.registry] });
  private readonly batchWrite = new Histogram({
    name: 'klx_block_batch_write_seconds',
    help: 'Duration of one group-commit write',
    labelNames: ['channel'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly rejected = new Counter({ name: 'klx_tx_rejected_total', help: 'Transactions rejected', labelNames: ['channel', 'code'], registers: [this.registry] });
  private readonly leader = new Gauge({ name: 'klx_processor_is_leader', help: '1 while this process produces blocks for the channel', labelNames: ['channel'], registers: [this.registry] });
  private readonly head = new Gauge({ name: 'klx_head_height', help: 'Latest committed or verified height', labelNames: ['channel', 'role'], registers: [this.registry] });
  private readonly halted = new Gauge({ name: 'klx_follower_halted', help: '1 when the follower refused a block', labelNames: ['channel'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  attachProcessor(p: ChannelProcessor, log: Logger): void {
    p.on('leader-elected', (e) => {
      this.leader.set({ channel: e.channel }, 1);
      this.head.set({ channel: e.channel, role: 'processor' }, Number(e.height));
      log.info({ channel: e.channel, instance: e.instance, height: e.height.toString() }, 'elected block producer');
    });
    p.on('leadership-lost', (e) => {
      this.leader.set({ channel: e.channel }, 0);
      log.warn({ channel: e.channel, instance: e.instance, reason: e.reason }, 'lost block production');
    });
    p.on('blocks-committed', (e) => {
      this.blocks.inc({ channel: e.channel }, e.count);
      this.batchWrite.observe({ channel: e.channel }, e.writeMs / 1000);
      this.head.set({ channel: e.channel, role: 'processor' }, Number(e.toHeight));
      log.debug({ channel: e.channel, from: e.fromHeight.toString(), to: e.toHeight.toString(), writeMs: e.writeMs }, 'blocks committed');
    });
    p.on('campaign-error', (e) => log.warn({ channel: e.channel, instance: e.instance }, `cannot campaign for block production: ${e.message}`));
    p.on('tx-rejected', (e) => {
      this.rejected.inc({ channel: e.channel, code: e.code });
      log.debug({ channel: e.channel, code: e.code }, 'transaction rejected');
    });
  }

  attachFollower(f: VerifyingFollower, log: Logger): void {
    f.on('block-verified', (e) => this.head.set({ channel: e.channel, role: 'follower' }, Number(e.height)));
    f.on('halted', (e) => {
      this.halted.set({ channel: e.channel }, 1);
      log.error({ channel: e.channel, height: e.height.toString(), reason: e.reason }, `follower halted: ${e.message}`);
    });
    f.on('source-error', (e) => log.warn({ channel: e.channel }, `block source: ${e.message}`));
  }
}
