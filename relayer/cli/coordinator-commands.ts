/**
 * `klx-bridge coordinator` (the role), and the users' commands: `xfer` signs a transfer request
 * for the source channel and hands it to the coordinator; `xfer-status` shows every state a
 * transfer passed through.
 */
import type { Command } from 'commander';
import { addressFromPublicKey } from '../ledger/address.ts';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { signTx } from '../ledger/transaction.ts';
import { createLogger } from '../observability/observability.ts';
import { HttpChannelPort } from '../../coordinator/channel-port.ts';
import { CoordinatorService } from '../../coordinator/coordinator-service.ts';
import { startCoordinatorApi } from '../../coordinator/coordinator-api.ts';
import { CoordinatorClient } from '../../coordinator/coordinator-client.ts';
import { CRASH_POINTS } from '../../coordinator/transfer-coordinator.ts';
import { configFrom, onShutdown } from './shared.ts';
import { readSeedFile, withHubOptions, type HubOptions } from './hub-sender.ts';

const DEFAULT_COORDINATOR = process.env.KLX_COORDINATOR_URL ?? 'http://127.0.0.1:8650';

function coordinatorKey(keyFile: string | undefined): Ed25519Signer {
  if (keyFile) return readSeedFile(keyFile);
  const hex = process.env.KLX_COORDINATOR_KEY;
  if (!hex || !/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError('the coordinator key: set KLX_COORDINATOR_KEY (64 hex characters) or pass --key-file');
  return Ed25519Signer.fromSeedHex(hex);
}

/** Crash drills only: KLX_COORDINATOR_CRASH_AT=<point>[@<n>] kills this process (SIGKILL) the n-th time it passes that point. */
function crashDrill(): ((point: string) => void) | undefined {
  const spec = process.env.KLX_COORDINATOR_CRASH_AT;
  if (!spec) return undefined;
  const [point = '', nth = '1'] = spec.split('@');
  if (!(CRASH_POINTS as readonly string[]).includes(point)) throw new ConfigError(`KLX_COORDINATOR_CRASH_AT: unknown point "${point}" (one of ${CRASH_POINTS.join(', ')})`);
  let seen = 0;
  return (p) => {
    if (p === point && ++seen === Number(nth)) process.kill(process.pid, 'SIGKILL');
  };
}

export function registerCoordinatorCommands(program: Command): void {
  program
    .command('coordinator')
    .description('run the inter-channel transfer and migration coordinator (active, or hot standby until it holds the lock)')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--key-file <file>', "the coordinator's hub key (default: $KLX_COORDINATOR_KEY)")
    .action(async (opts: { config?: string; keyFile?: string }) => {
      const cfg = configFrom(opts);
      const co = cfg.coordinator;
      if (!co) throw new ConfigError('the config has no coordinator section');
      const key = coordinatorKey(opts.keyFile);
      if (addressFromPublicKey(cfg.addressPrefix, key.publicKey) !== co.address) throw new ConfigError('the coordinator key does not match coordinator.address');
      const log = createLogger(cfg.log.level);
      const hubUrl = cfg.hubUrl ?? `http://${cfg.api.host}:${cfg.api.port}`;
      const ports = new Map(cfg.channels.map((c) => [c.name, new HttpChannelPort({ network: cfg.network, channel: c.name, addressPrefix: cfg.addressPrefix }, hubUrl, key)]));
      const crashPoint = crashDrill();
      const service = new CoordinatorService({
        databaseUrl: cfg.databaseUrl, schema: co.schema, instance: cfg.instance, network: cfg.network, addressPrefix: cfg.addressPrefix, ports, voteTimeoutMs: co.voteTimeoutMs,
        ...(co.migration && cfg.bridge ? { migration: { chain: co.migration.chain, bridgeChannel: cfg.bridge.channel } } : {}),
        ...(crashPoint ? { crashPoint } : {}),
      });
      onShutdown(() => service.stop());
      const coordinator = await service.start(() => log.info({ instance: cfg.instance }, 'coordinator standby: waiting for the coordinator lock'));
      coordinator.on('decided', (e) => log.info({ transfer: e.id, decision: e.decision }, e.reason));
      coordinator.on('forgotten', (e) => log.info({ transfer: e.id, decision: e.decision }, 'transfer done; forgotten'));
      coordinator.on('alarm', (e) => log.warn({ transfer: e.id }, e.message));
      const server = await startCoordinatorApi(service, co.api.port, co.api.host);
      onShutdown(() => new Promise<void>((r) => server.close(() => r())));
      log.info({ epoch: coordinator.epoch.toString(), port: co.api.port }, 'coordinator active');
      await new Promise(() => undefined);
    });

  withHubOptions(
    program
      .command('xfer <toChannel> <recipient> <amount>')
      .description('send KLX (or --asset) to another channel: signs the request for --channel and hands it to the coordinator')
      .requiredOption('--key-file <file>', "the sender's ed25519 seed (hex)")
      .option('--asset <id>', 'hub asset', 'KLX')
      .option('--coordinator <url>', 'coordinator API', DEFAULT_COORDINATOR)
      .option('--wait', 'wait until both channels agree on the outcome'),
  ).action(async (to: string, recipient: string, amount: string, o: HubOptions & { keyFile: string; asset: string; coordinator: string; wait?: boolean }) => {
    const key = readSeedFile(o.keyFile);
    const sender = addressFromPublicKey(o.prefix, key.publicKey);
    const nonce = randomBytes(8).readBigUInt64BE() >> 1n; // requests are single-use by their hash; the nonce only makes each one distinct
    const req = signTx({ network: o.network, channel: o.channel, type: 'xfer-request', sender, lane: 0, nonce, body: { to, recipient, asset: o.asset, amount } }, key);
    const coordinator = new CoordinatorClient(o.coordinator);
    const id = await coordinator.submit(req);
    console.log(JSON.stringify({ id, from: o.channel, to, amount, asset: o.asset }));
    if (!o.wait) return;
    for (;;) {
      const outcome = await coordinator.outcome(id, o.channel, to);
      if (outcome) return console.log(JSON.stringify({ id, outcome }));
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  program
    .command('xfer-status <id>')
    .description('every state an inter-channel transfer passed through, and each channel\'s record of it')
    .option('--coordinator <url>', 'coordinator API', DEFAULT_COORDINATOR)
    .action(async (id: string, o: { coordinator: string }) => {
      console.log(JSON.stringify(await new CoordinatorClient(o.coordinator).status(id), null, 2));
    });
}
