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
import { startEmbeddedPostgres, startLocalRedis, type LocalService } from './services.ts';

const dir = process.env.KLX_DEVNET_DIR ?? join(process.cwd(), '.devnet');
const apiPort = Number(process.env.KLX_API_PORT ?? 8645);
const log = createLogger(process.env.KLX_LOG_LEVEL ?? 'info');
const services: LocalService[] = [];

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
  Object.assign(process.env, devnetProducerEnv());
  const cfg = parseConfig(devnetConfig(databaseUrl, apiPort, redisUrl), { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });
  const node = new ChannelNode(cfg, log);
  const { port, done } = await node.start();

  const pool = createPool(databaseUrl, 2);
  const abort = new AbortController();
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
      '  devnet users (keys: `npm run klx-bridge -- keygen --devnet <name> --out <file>`):',
      ...DEVNET_USERS.map((u) => `    ${u.padEnd(9)} ${devnetAddress(u)}`),
      `  try: curl ${url}/v1/channels/bridge/balances/${devnetAddress('alice')}`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    await node.stop();
    await pool.end().catch(() => undefined);
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  await Promise.race([done, ...followers]).catch(async (e: unknown) => {
    log.error({ err: e instanceof KlxError ? e.toJSON() : String(e) }, 'devnet component failed');
    await stop(1);
  });
}

main().catch(async (e: unknown) => {
  console.error(`devnet: ${e instanceof KlxError ? `${e.code}: ` : ''}${(e as Error).message}`);
  for (const s of services.reverse()) await s.stop().catch(() => undefined);
  process.exit(e instanceof KlxError && e.code === 'CONFIG_INVALID' ? 2 : 1);
});
