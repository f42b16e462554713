/**
 * The bridge roles as processes: `listener`, `approver`, `submitter`, and the operator
 * commands `listener-clear-halt`, `reobserve` and `return-deposit`. Each role follows the hub through its
 * own verified copy (own schema), takes its keys from the environment (or *_FILE
 * paths; never logged) and serves /health and /metrics with --status-port.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, KlxError } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { type BridgeConfig, loadFamilySecret, loadSecret } from '../config/config.ts';
import { bridgeChannel, configuredChains, hubViewFor, type ConfiguredChain } from '../bridge/bridge-setup.ts';
import { addressFromPublicKey } from '../ledger/address.ts';
import { signTx } from '../ledger/transaction.ts';
import { ChannelClient } from '../node/client.ts';
import type { HubView } from '../bridge/hub-view.ts';
import { ChainListener } from '../listener/chain-listener.ts';
import { clearListenerHalt } from '../listener/halt-clearing.ts';
import { probeChains } from '../listener/chain-probe.ts';
import { ListenerStore } from '../listener/listener-store.ts';
import { ActionApprover } from '../approver/action-approver.ts';
import { ActionLander } from '../submitter/action-lander.ts';
import { ActionQueue } from '../submitter/action-queue.ts';
import { HubActionSource } from '../submitter/hub-action-source.ts';
import { SubmissionStore } from '../submitter/submission-store.ts';
import { createLogger } from '../observability/observability.ts';
import { startStatusServer } from '../observability/status-server.ts';
import { createPool } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { SchemaLock } from '../store/schema-lock.ts';
import { configFrom, onShutdown } from './shared.ts';
import type pg from 'pg';

interface RoleOpts {
  config?: string;
  schema?: string;
  statusPort?: string;
}

interface Role {
  cfg: BridgeConfig;
  log: Logger;
  pool: pg.Pool;
  /** The role's own schema. */
  schema: string;
  hub: HubView;
  chains: ConfiguredChain[];
  abort: AbortController;
  health: Record<string, unknown> & { status: 'ok' | 'halted' | 'starting' };
  /** Runs the role's work to its end, then stops (so a halted role's process can exit). */
  runToEnd(work: Promise<unknown>): Promise<void>;
  /** Stops the work, the hub copy, the status endpoint and the pool, then frees the schema. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Shared start-up of a role: config, own schema, verified hub copy, adapters, status endpoint,
 * shutdown. `loadKeys` reads the role's chain keys before anything starts, so a missing key is
 * a start-up error (exit 2), not a failure later.
 */
async function startRole<K = undefined>(role: string, opts: RoleOpts, loadKeys?: (chains: ConfiguredChain[]) => K): Promise<Role & { keys: K }> {
  const cfg = configFrom(opts);
  const log = createLogger(cfg.log.level).child({ role });
  if (opts.statusPort !== undefined && !/^[0-9]{1,5}$/.test(opts.statusPort)) throw new ConfigError('--status-port must be a port number');
  const lockWaitMs = schemaLockWaitMs();
  const hubKey = Ed25519Signer.fromSeedHex(loadSecret('KLX_HUB_KEY', 'the role\'s hub key (hex ed25519 seed)'));
  const chains = configuredChains(cfg);
  const keys = (loadKeys ? loadKeys(chains) : undefined) as K;
  const pool = createPool(cfg.databaseUrl, 4);
  const schema = opts.schema ?? `${role}_${Buffer.from(hubKey.publicKey).toString('hex').slice(0, 12)}`;
  const abort = new AbortController();
  // Set once everything below is running; until then a lost lock is only recorded.
  let stop: () => Promise<void> = () => Promise.resolve();
  const lock: { lost: string | null } = { lost: null };
  // One process per schema: a second one (the same key started twice) refuses to start.
  const schemaLock = await SchemaLock.acquire(cfg.databaseUrl, schema, {
    waitMs: lockWaitMs,
    onLost: (reason) => {
      lock.lost = reason;
      log.fatal(`${reason}; stopping, as another process may now take schema ${schema}`);
      health.status = 'halted';
      process.exitCode = 4;
      stop().catch((e: unknown) => log.error(`stopping after the schema lock was lost: ${(e as Error).message}`));
    },
  });
  const hub = hubViewFor(cfg, pool, schema, hubKey);
  const health: Role['health'] = { status: 'ok', role, schema, address: hub.address };
  hub.on('halted', (e) => {
    // A block that does not verify: this role stops rather than act on a history it cannot trust.
    log.fatal({ height: e.height.toString(), reason: e.reason }, `hub copy halted: ${e.message}; stopping`);
    health.status = 'halted';
    abort.abort();
    process.exitCode = 3;
  });
  hub.on('source-error', (e) => log.warn(`hub block source: ${e.message}`));
  hub.on('tx-rejected', (e) => log.warn({ type: e.type, code: e.code }, `hub refused a transaction: ${e.message}`));
  await hub.start();
  log.info({ schema, address: hub.address, height: hub.height.toString(), chains: chains.map((c) => c.name) }, `${role} started`);
  const status =
    opts.statusPort === undefined
      ? undefined
      : await startStatusServer(Number(opts.statusPort), cfg.api.host, {
          health: () => ({ ...health, hubHeight: hub.height.toString() }),
          metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: `klx_role_hub_height{role="${role}"} ${hub.height}\n` }),
        });
  if (status) log.info({ port: status.port }, 'status endpoint listening');
  // Everything stops before the schema is freed: no write of this process can follow a successor's.
  let stopping: Promise<void> | null = null;
  stop = () =>
    (stopping ??= (async () => {
      abort.abort();
      await hub.stop();
      await status?.close();
      await pool.end();
      await schemaLock.release();
    })());
  onShutdown(() => stop());
  if (lock.lost !== null) {
    await stop();
    throw new KlxError('SCHEMA_LOCK_LOST', `${lock.lost} while ${role} was starting`, false, { schema });
  }
  const runToEnd = async (work: Promise<unknown>) => {
    try {
      await work;
    } finally {
      await stop();
    }
  };
  return { cfg, log, pool, schema, hub, chains, abort, health, keys, runToEnd, stop };
}

/** KLX_SCHEMA_LOCK_WAIT_MS: how long a starting role waits for its schema's previous holder (default 10 s). */
function schemaLockWaitMs(): number {
  const raw = process.env.KLX_SCHEMA_LOCK_WAIT_MS;
  if (raw === undefined || raw === '') return 10_000;
  if (!/^[0-9]{1,7}$/.test(raw)) throw new ConfigError('KLX_SCHEMA_LOCK_WAIT_MS must be a whole number of milliseconds');
  return Number(raw);
}

function roleOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--schema <name>', "this role's own schema (default: <role>_<key prefix>)")
    .option('--status-port <port>', 'serve /health and /metrics on this port (0: any free port)');
}

export function registerBridgeRoleCommands(program: Command): void {
  roleOptions(program.command('listener').description('watch every configured chain at its confirmation depth and attest bridge events to the hub (key: KLX_HUB_KEY)')).action(
    async (opts: RoleOpts) => {
      const r = await startRole('listener', opts);
      const unreachable = await probeChains(r.chains).catch(async (e: unknown) => {
        await r.stop();
        throw e;
      });
      for (const [chain, e] of unreachable) r.log.warn({ chain }, `start-up probe: ${e.message}; polls retry`);
      const store = new ListenerStore(r.pool, r.schema, { onPruneError: (chain, e) => r.log.warn({ chain }, `pruning attested blocks: ${e.message}`) });
      const listeners = r.chains.map((c, i) => new ChainListener(c, r.hub, store, i + 1));
      for (const l of listeners) {
        l.on('attested', (e) => r.log.info({ chain: e.chain, count: e.count, first: e.firstEventId, last: e.lastEventId, final: e.finalHeight.toString() }, 'attested'));
        l.on('halted', (e) => {
          r.health[`halted:${e.chain}`] = e.reason;
          r.log.error({ chain: e.chain }, `chain halted: ${e.reason} (clear with: klx-bridge listener-clear-halt ${e.chain})`);
        });
        l.on('alarm', (e) => r.log.warn({ chain: e.chain, code: e.code }, e.message));
      }
      await r.runToEnd(Promise.all(listeners.map((l) => l.run(r.abort.signal))));
    },
  );

  roleOptions(
    program.command('approver').description("re-derive each withdrawal action from this approver's own verified hub copy and sign it (keys: KLX_HUB_KEY, KLX_CHAIN_KEY_<FAMILY> per configured family: EVM, SOLANA)"),
  ).action(async (opts: RoleOpts) => {
    const r = await startRole('approver', opts, (chains) =>
      chains.map((c, i) => ({ chain: c, signer: c.adapter.signer(loadFamilySecret('KLX_CHAIN_KEY', c.adapter.family, "the approver's chain key")), lane: i + 1 })),
    );
    const approver = new ActionApprover(r.keys, r.hub);
    approver.on('approved', (e) => r.log.info({ chain: e.chain, actions: e.actionIds }, 'approved'));
    approver.on('refused', (e) => r.log.warn({ chain: e.chain, action: e.actionId }, `not approving: ${e.reason}`));
    approver.on('alarm', (e) => r.log.warn({ chain: e.chain, code: e.code }, e.message));
    await r.runToEnd(approver.run(r.abort.signal));
  });

  roleOptions(
    program.command('submitter').description('land signed actions on every configured chain in strict id order through per-chain BullMQ queues (keys: KLX_PAYER_KEY_<FAMILY> per configured family: EVM, SOLANA)'),
  ).action(async (opts: RoleOpts) => {
    const r = await startRole('submitter', opts, (chains) =>
      new Map(chains.map((c) => [c.name, loadFamilySecret('KLX_PAYER_KEY', c.adapter.family, "the submitter's fee-paying key")])),
    );
    if (!r.cfg.redisUrl) throw new ConfigError('the submitter needs redisUrl (or REDIS_URL)');
    const store = new SubmissionStore(r.pool, r.schema);
    const source = new HubActionSource(r.hub, (chain) => {
      const c = r.chains.find((x) => x.name === chain);
      if (!c) throw new ConfigError(`unknown chain ${chain}`);
      return c.adapter;
    });
    const landers = r.chains.map(
      (c) =>
        new ActionLander({
          adapter: c.adapter,
          source,
          store,
          payerSecret: r.keys.get(c.name) ?? '',
          batchLimit: 64,
          pollIntervalMs: 20,
          holdBaseMs: 200,
          holdMaxMs: 5000,
        }),
    );
    const url = new URL(r.cfg.redisUrl);
    const queue = new ActionQueue({
      connection: { host: url.hostname, port: Number(url.port || 6379), ...(url.password ? { password: decodeURIComponent(url.password) } : {}), maxRetriesPerRequest: null },
      prefix: `klx:${r.cfg.network}`,
      source,
      landers,
      reconcileIntervalMs: 5000,
      backoffBaseMs: 200,
      backoffMaxMs: 5000,
    });
    queue.on('submitted', (e) => r.log.info({ chain: e.chain, tx: e.txHash, first: e.firstId.toString(), last: e.lastId.toString() }, 'submitted'));
    queue.on('landed', (e) => r.log.info({ chain: e.chain, tx: e.txHash, first: e.firstId.toString(), last: e.lastId.toString() }, 'landed'));
    queue.on('retry', (e) => r.log.warn({ chain: e.chain, action: e.actionId.toString(), code: e.code }, `retrying: ${e.message}`));
    queue.on('failed', (e) => r.log.error({ chain: e.chain, action: e.actionId.toString(), code: e.code }, `failed for good: ${e.message}`));
    queue.on('queue-error', (e) => r.log.warn({ chain: e.chain }, `queue: ${e.message}`));
    await queue.start();
    // New signed actions become jobs as soon as the verified copy shows them.
    let enqueued = new Map<string, bigint>();
    const onBlock = () => {
      void (async () => {
        const next = new Map<string, bigint>();
        for (const c of r.chains) {
          const ids = await source.pendingIds(c.name);
          for (const id of ids) if (id > (enqueued.get(c.name) ?? 0n)) await queue.enqueue(c.name, id);
          next.set(c.name, ids.length ? (ids[ids.length - 1] as bigint) : (enqueued.get(c.name) ?? 0n));
        }
        enqueued = next;
      })().catch((e: unknown) => r.log.warn(`enqueue: ${(e as Error).message}`));
    };
    r.hub.on('block-verified', onBlock);
    await r.runToEnd(new Promise<void>((resolve) => r.abort.signal.addEventListener('abort', () => resolve())).then(() => queue.close()));
  });

  program
    .command('listener-clear-halt <chain>')
    .description("operator command: clear a listener's persisted halt of <chain> after investigating it (env KLX_HUB_KEY selects the listener)")
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--schema <name>', "the listener's schema (default: listener_<key prefix>)")
    .action(async (chain: string, opts: RoleOpts) => {
      const cfg = configFrom(opts);
      const hubKey = Ed25519Signer.fromSeedHex(loadSecret('KLX_HUB_KEY', "the listener's hub key"));
      const schema = opts.schema ?? `listener_${Buffer.from(hubKey.publicKey).toString('hex').slice(0, 12)}`;
      const pool = createPool(cfg.databaseUrl, 1);
      try {
        const client = await pool.connect();
        await migrate(client, schema).finally(() => client.release());
        const store = new ListenerStore(pool, schema);
        const configured = configuredChains(cfg).find((c) => c.name === chain);
        if (!configured) throw new ConfigError(`chain ${chain} is not configured`);
        const { cleared, anchor, forgotFrom } = await clearListenerHalt(store, configured.adapter, chain);
        const from = anchor ? `; continuing from block ${anchor.height} (${anchor.hash})` : '';
        const forgot = forgotFrom !== null ? `; attested blocks from ${forgotFrom} up are forgotten` : '';
        console.log(cleared ? `cleared the halt of ${chain}${from}${forgot}` : `${chain} was not halted`);
      } finally {
        await pool.end();
      }
    });

  roleOptions(program.command('reobserve <chain> <txhash>').description('listener operator command: re-examine one chain transaction and attest its events if they are final and not yet applied')).action(
    async (chainName: string, txHash: string, opts: RoleOpts) => {
      const r = await startRole('listener', opts);
      try {
        const chain = r.chains.find((c) => c.name === chainName);
        if (!chain) throw new ConfigError(`chain "${chainName}" is not configured`);
        await r.hub.waitForHeight(await r.hub.client.headHeight());
        const listener = new ChainListener(chain, r.hub, new ListenerStore(r.pool, r.schema), r.chains.indexOf(chain) + 1);
        const report = await listener.reobserve(txHash);
        console.log(JSON.stringify({ chain: chainName, txHash, events: report }, null, 2));
      } finally {
        await r.stop();
      }
    },
  );

  program
    .command('return-deposit <chain> <eventId>')
    .description("approver operator command: vote to send a claimable or stray deposit back to its refund address; the approver quorum's last vote creates the action (key: KLX_HUB_KEY)")
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--lane <n>', 'nonce lane for operator votes (the approver process uses lanes 1 to the number of chains)', String(OPERATOR_LANE))
    .action(async (chain: string, eventId: string, opts: RoleOpts & { lane: string }) => {
      const cfg = configFrom(opts);
      if (!/^[1-9][0-9]{0,19}$/.test(eventId)) throw new ConfigError('<eventId> must be a positive integer');
      if (!/^[0-9]{1,5}$/.test(opts.lane) || Number(opts.lane) > 65535) throw new ConfigError('--lane must be an integer from 0 to 65535');
      const hubKey = Ed25519Signer.fromSeedHex(loadSecret('KLX_HUB_KEY', "the approver's hub key (hex ed25519 seed)"));
      const { channel } = bridgeChannel(cfg);
      const client = new ChannelClient(cfg.hubUrl ?? `http://${cfg.api.host}:${cfg.api.port}`, channel.name);
      const deposit = (await client.bridgeRecord<Record<string, string>>('claimable', chain, eventId)) ?? (await client.bridgeRecord<Record<string, string>>('stray', chain, eventId));
      if (!deposit) throw new ConfigError(`deposit ${eventId} of ${chain} is neither claimable nor stray on the hub`);
      const sender = addressFromPublicKey(cfg.addressPrefix, hubKey.publicKey);
      const lane = Number(opts.lane);
      const tx = signTx({ network: cfg.network, channel: channel.name, type: 'return-deposit', sender, lane, nonce: await client.nextNonce(sender, lane), body: { chain, eventId } }, hubKey);
      const receipt = await client.submit(tx);
      const votes = await client.bridgeRecord<{ approvers: string[] }>('returns', chain, eventId);
      const event = await client.bridgeRecord<{ detail: string }>('event', chain, eventId);
      console.log(JSON.stringify({ voted: { chain, eventId, deposit }, height: receipt.height, votes: votes?.approvers ?? null, outcome: votes ? 'waiting for more approver votes' : event?.detail }, null, 2));
    });
}

/** The lane operator votes use by default, well away from the approver process's lanes. */
const OPERATOR_LANE = 1000;
