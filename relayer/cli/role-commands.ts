/** Role subcommands: processor and follow run here; the other roles arrive with their issues. */
import type { Command } from 'commander';
import { ConfigError } from '../ledger/errors.ts';
import { genesisSpec, producerPublicKey } from '../config/config.ts';
import { HttpBlockSource } from '../follower/block-source.ts';
import { VerifyingFollower } from '../follower/follower.ts';
import { ChannelNode } from '../node/channel-node.ts';
import { BridgeMetrics, createLogger } from '../observability/observability.ts';
import { startStatusServer } from '../observability/status-server.ts';
import { createPool } from '../store/db.ts';
import { configFrom, onShutdown } from './shared.ts';

export function registerRoleCommands(program: Command): void {
  program
    .command('processor')
    .description('run the block producer (or hot standby) of every configured channel, with the channel node API')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .action(async (opts: { config?: string }) => {
      const cfg = configFrom(opts);
      const log = createLogger(cfg.log.level);
      const node = new ChannelNode(cfg, log);
      onShutdown(() => node.stop());
      const { done } = await node.start();
      await done;
    });

  program
    .command('follow')
    .description("follow a channel's block stream, verifying every block into this follower's own schema")
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .requiredOption('--source <url>', 'channel node API base URL')
    .requiredOption('--channel <name>', 'channel to follow')
    .requiredOption('--schema <name>', "the follower's own schema (never the processors')")
    .option('--status-port <port>', 'serve /health and /metrics on this port (0: any free port)')
    .action(async (opts: { config?: string; source: string; channel: string; schema: string; statusPort?: string }) => {
      const cfg = configFrom(opts);
      const ch = cfg.channels.find((c) => c.name === opts.channel);
      if (!ch) throw new ConfigError(`channel "${opts.channel}" is not in the config`);
      if (opts.schema === cfg.schema) throw new ConfigError('a follower must use its own schema, not the processors\'');
      const log = createLogger(cfg.log.level);
      const pool = createPool(cfg.databaseUrl, 2);
      const follower = new VerifyingFollower({
        pool,
        schema: opts.schema,
        identity: { network: cfg.network, channel: ch.name, addressPrefix: cfg.addressPrefix, producer: producerPublicKey(ch), genesis: genesisSpec(ch) },
      });
      const metrics = new BridgeMetrics();
      metrics.attachFollower(follower, log);
      let halted: { height: string; reason: string } | null = null;
      follower.on('halted', (e) => (halted = { height: e.height.toString(), reason: e.reason }));
      if (opts.statusPort !== undefined && !/^[0-9]{1,5}$/.test(opts.statusPort)) throw new ConfigError('--status-port must be a port number');
      await follower.open();
      log.info({ channel: ch.name, schema: opts.schema, height: follower.height.toString() }, 'follower resumed');
      const status =
        opts.statusPort === undefined
          ? undefined
          : await startStatusServer(Number(opts.statusPort), cfg.api.host, {
              health: () => ({ status: halted ? 'halted' : 'ok', channel: ch.name, height: follower.height.toString(), halted }),
              metrics: () => metrics.render(),
            });
      if (status) log.info({ port: status.port }, 'follower status endpoint listening');
      const abort = new AbortController();
      onShutdown(async () => {
        abort.abort();
        await status?.close();
        await pool.end();
      });
      try {
        await follower.run(new HttpBlockSource(opts.source, ch.name, (m) => log.warn({ channel: ch.name }, `block source: ${m}`)), abort.signal);
      } finally {
        await status?.close();
      }
    });
}
