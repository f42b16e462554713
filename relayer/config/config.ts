/**
 * Configuration: a JSON file plus environment overrides, validated with zod at
 * start-up. A bad value is a ConfigError naming the field and the reason (never the
 * value: it may be a secret); the CLI turns it into a non-zero exit.
 *
 * Environment overrides: DATABASE_URL, REDIS_URL, KLX_API_HOST, KLX_API_PORT,
 * KLX_LOG_LEVEL, KLX_INSTANCE. Producer keys: `producerKeyFile` per channel, or the
 * environment variable KLX_PRODUCER_KEY_<CHANNEL> (hex seed; channel upper-cased,
 * dashes as underscores).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { decodeAddress } from '../ledger/address.ts';
import { fromHex, MAX_U128 } from '../ledger/bytes.ts';
import { ConfigError, TxRejected } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { ASSET_ID_PATTERN } from '../ledger/asset-id.ts';
import type { GenesisSpec } from '../processor/genesis.ts';
import { readEvmDeployment, type EvmDeployment } from '../../adapters/evm/deployment.ts';
import { readSolanaDeployment, type SolanaDeployment } from '../../adapters/solana/deployment.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes, starting with a letter, at most 32');
const hex32 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters');
const baseUnits = z.string().regex(/^[1-9][0-9]{0,38}$/, 'a positive integer of base units, as a string');

const channelSchema = z.strictObject({
  name,
  producerPublicKey: hex32.optional(),
  producerKeyFile: z.string().min(1).optional(),
  genesis: z.strictObject({
    timestampMs: z.string().regex(/^[0-9]{1,16}$/, 'milliseconds since the epoch, as a string'),
    assets: z
      .array(z.strictObject({ id: z.string().regex(ASSET_ID_PATTERN, 'an asset id'), decimals: z.number().int().min(0).max(36) }))
      .min(1),
    allocations: z.array(z.strictObject({ address: z.string(), asset: z.string(), amount: baseUnits })).max(100).default([]),
  }),
});

export const configSchema = z.strictObject({
  network: name,
  addressPrefix: z.string().regex(/^[a-z]{1,4}$/, '1 to 4 lowercase letters'),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string'),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// URL').optional(),
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier').default('hub'),
  instance: z.string().min(1).max(64).default(`${hostname()}-${process.pid}`),
  api: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8645) }).default({ host: '127.0.0.1', port: 8645 }),
  processor: z
    .strictObject({ maxBatch: z.number().int().min(1).max(4096).default(256), maxQueue: z.number().int().min(1).max(1_000_000).default(20_000) })
    .default({ maxBatch: 256, maxQueue: 20_000 }),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
  channels: z.array(channelSchema).min(1),
  /** EVM chains this deployment bridges to: where their contracts are (a `klx-bridge deploy evm` record). */
  evmChains: z
    .array(
      z.strictObject({
        name,
        rpcUrl: z.string().regex(/^https?:\/\//, 'an http(s) RPC URL'),
        deploymentFile: z.string().min(1),
        /** When a block is final enough to attest: the chain's `finalized` tag, or a number of blocks (1 = the latest). */
        confirmations: z.union([z.literal('finalized'), z.strictObject({ blocks: z.number().int().min(1).max(10_000) })]).default('finalized'),
        /** Listeners attest free custody of every lock-mode asset at each block height divisible by this (every listener of the chain must agree on it). */
        custodySyncBlocks: z.number().int().min(1).max(1_000_000).default(20),
        /** Chain assets the hub carries: "native", "klx" (the deployment's KLX token) or a token address. */
        assets: z
          .array(
            z.strictObject({
              hubAsset: z.string().regex(ASSET_ID_PATTERN, 'an asset id'),
              chainAsset: z.string().regex(/^(native|klx|0x[0-9a-fA-F]{40})$/, '"native", "klx" or a token address'),
              decimals: z.number().int().min(0).max(77).default(18),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  /** Solana clusters this deployment bridges to: where their bridge accounts are (a Solana deployment record). Always read at `finalized`. */
  solanaChains: z
    .array(
      z.strictObject({
        name,
        rpcUrl: z.string().regex(/^https?:\/\//, 'an http(s) RPC URL'),
        deploymentFile: z.string().min(1),
        /** Listeners attest free custody of every lock-mode asset at each slot divisible by this (a skipped slot is skipped). */
        custodySyncBlocks: z.number().int().min(1).max(1_000_000).default(150),
        /** Chain assets the hub carries: "klx" (the deployment's bridged-KLX mint), "sol" (wrapped SOL) or an SPL mint address (then with its decimals). */
        assets: z
          .array(
            z.strictObject({
              hubAsset: z.string().regex(ASSET_ID_PATTERN, 'an asset id'),
              chainAsset: z.string().regex(/^(klx|sol|[1-9A-HJ-NP-Za-km-z]{32,44})$/, '"klx", "sol" or a base58 mint address'),
              decimals: z.number().int().min(0).max(19).optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  /** The bridge channel's validator sets (DESIGN.md section 1): hub addresses and quorums. */
  bridge: z
    .strictObject({
      channel: name,
      listeners: z.array(z.string()).min(1).max(64),
      listenerQuorum: z.number().int().min(1),
      approvers: z.array(z.string()).min(1).max(64),
      approverQuorum: z.number().int().min(1),
    })
    .optional(),
  /**
   * The inter-channel transfer and migration coordinator (issue 6): its hub address (every
   * channel links to it), where it listens, its log's schema, and the migration it runs.
   */
  coordinator: z
    .strictObject({
      address: z.string().min(1),
      api: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8650) }).default({ host: '127.0.0.1', port: 8650 }),
      /** Where resolvers and users reach the active coordinator. */
      url: z.string().regex(/^https?:\/\//, 'an http(s) URL').default('http://127.0.0.1:8650'),
      schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier').default('coordinator'),
      voteTimeoutMs: z.number().int().min(50).max(3_600_000).default(10_000),
      /** A channel asks the coordinator about a transfer it has held prepared for longer than this. */
      resolverAfterMs: z.number().int().min(0).max(86_400_000).default(30_000),
      /** The largest incoming transfer a channel accepts (base units). */
      maxTransfer: baseUnits.default('1000000000000000000'),
      migration: z
        .strictObject({
          chain: name,
          hubAsset: z.string().regex(ASSET_ID_PATTERN, 'an asset id').default('KLX'),
          /** 480,000,000,000 KLX at 9 decimals. */
          cap: baseUnits.default('480000000000000000000'),
          /** Native units that exist outside migration (genesis allocations of every channel). */
          premint: z.string().regex(/^(0|[1-9][0-9]{0,38})$/, 'base units').default('0'),
          perTransfer: baseUnits,
          per24h: baseUnits,
        })
        .optional(),
    })
    .optional(),
  /** Where the bridge roles reach the channel node API (default: http://<api.host>:<api.port>). */
  hubUrl: z.string().regex(/^https?:\/\//, 'an http(s) URL').optional(),
});

export type RawConfig = z.input<typeof configSchema>;
export type BridgeConfig = z.output<typeof configSchema>;
export type ChannelConfig = BridgeConfig['channels'][number];

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates a raw config object with environment overrides applied. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('config must be a JSON object');
  const merged: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (env.DATABASE_URL) merged.databaseUrl = env.DATABASE_URL;
  if (env.REDIS_URL) merged.redisUrl = env.REDIS_URL;
  if (env.KLX_INSTANCE) merged.instance = env.KLX_INSTANCE;
  const api = { ...((merged.api as Record<string, unknown> | undefined) ?? {}) };
  if (env.KLX_API_HOST) api.host = env.KLX_API_HOST;
  if (env.KLX_API_PORT) {
    if (!/^[0-9]{1,5}$/.test(env.KLX_API_PORT)) throw new ConfigError('KLX_API_PORT: must be a port number');
    api.port = Number(env.KLX_API_PORT);
  }
  merged.api = api;
  if (env.KLX_LOG_LEVEL) merged.log = { ...((merged.log) ?? {}), level: env.KLX_LOG_LEVEL };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(`invalid config: ${describe(parsed.error)}`);
  const cfg = parsed.data;
  const names = new Set<string>();
  cfg.channels.forEach((c, i) => {
    if (names.has(c.name)) throw new ConfigError(`invalid config: channels.${i}.name: channel "${c.name}" appears twice`);
    names.add(c.name);
    const assets = new Set(c.genesis.assets.map((a) => a.id));
    if (assets.size !== c.genesis.assets.length) throw new ConfigError(`invalid config: channels.${i}.genesis.assets: an asset id appears twice`);
    c.genesis.allocations.forEach((a, j) => {
      try {
        decodeAddress(a.address, cfg.addressPrefix);
      } catch (e) {
        throw new ConfigError(`invalid config: channels.${i}.genesis.allocations.${j}.address: ${(e as TxRejected).message}`);
      }
      if (BigInt(a.amount) > MAX_U128) throw new ConfigError(`invalid config: channels.${i}.genesis.allocations.${j}.amount: exceeds u128`);
      if (!assets.has(a.asset)) throw new ConfigError(`invalid config: channels.${i}.genesis.allocations.${j}.asset: not declared in genesis.assets`);
    });
  });
  if (cfg.bridge) {
    const b = cfg.bridge;
    if (!names.has(b.channel)) throw new ConfigError(`invalid config: bridge.channel: channel "${b.channel}" is not configured`);
    for (const [what, list, q] of [['listener', b.listeners, b.listenerQuorum], ['approver', b.approvers, b.approverQuorum]] as const) {
      if (2 * q <= list.length || q > list.length) throw new ConfigError(`invalid config: bridge.${what}Quorum: ${q} of ${list.length} is not a strict majority`);
      if (new Set(list).size !== list.length) throw new ConfigError(`invalid config: bridge.${what}s: an address appears twice`);
      list.forEach((a, j) => {
        try {
          decodeAddress(a, cfg.addressPrefix);
        } catch (e) {
          throw new ConfigError(`invalid config: bridge.${what}s.${j}: ${(e as TxRejected).message}`);
        }
      });
    }
  }
  const chainNames = new Set<string>();
  for (const [list, chains] of [['evmChains', cfg.evmChains], ['solanaChains', cfg.solanaChains]] as const) {
    chains.forEach((c, i) => {
      if (chainNames.has(c.name)) throw new ConfigError(`invalid config: ${list}.${i}.name: chain "${c.name}" appears twice`);
      chainNames.add(c.name);
    });
  }
  if (cfg.coordinator) {
    try {
      decodeAddress(cfg.coordinator.address, cfg.addressPrefix);
    } catch (e) {
      throw new ConfigError(`invalid config: coordinator.address: ${(e as TxRejected).message}`);
    }
    const m = cfg.coordinator.migration;
    if (m && !chainNames.has(m.chain)) throw new ConfigError(`invalid config: coordinator.migration.chain: chain "${m.chain}" is not configured`);
    if (m && !cfg.bridge) throw new ConfigError('invalid config: coordinator.migration: needs a bridge section');
    if (m && BigInt(m.premint) > BigInt(m.cap)) throw new ConfigError('invalid config: coordinator.migration.premint: exceeds the cap');
  }
  cfg.solanaChains.forEach((c, i) =>
    c.assets.forEach((a, j) => {
      if (a.chainAsset !== 'klx' && a.chainAsset !== 'sol' && a.decimals === undefined) {
        throw new ConfigError(`invalid config: solanaChains.${i}.assets.${j}.decimals: required for a mint address (the mint's decimals)`);
      }
    }),
  );
  return cfg;
}

/** Reads and checks every EVM deployment record the config names (a missing or invalid one is a ConfigError). */
export function loadEvmDeployments(cfg: BridgeConfig): Map<string, EvmDeployment & { rpcUrl: string }> {
  const out = new Map<string, EvmDeployment & { rpcUrl: string }>();
  for (const c of cfg.evmChains) out.set(c.name, { ...readEvmDeployment(c.deploymentFile), rpcUrl: c.rpcUrl });
  return out;
}

/** Reads and checks every Solana deployment record the config names. */
export function loadSolanaDeployments(cfg: BridgeConfig): Map<string, SolanaDeployment> {
  return new Map(cfg.solanaChains.map((c) => [c.name, readSolanaDeployment(c.deploymentFile)]));
}

/**
 * A chain key of one family from the environment: `<PREFIX>_<FAMILY>` (e.g. KLX_CHAIN_KEY_SOLANA),
 * or the same name with `_FILE`. One key per family serves every chain of that family.
 */
export function loadFamilySecret(prefix: 'KLX_CHAIN_KEY' | 'KLX_PROCESSOR_CHAIN_KEY' | 'KLX_PAYER_KEY', family: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  return loadSecret(`${prefix}_${family.toUpperCase()}`, `${what} for ${family} chains`, env);
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`cannot read config file ${path}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message.replace(/".*"/, '…')}`);
  }
  return parseConfig(raw, env);
}

export function genesisSpec(c: ChannelConfig): GenesisSpec {
  return {
    timestampMs: BigInt(c.genesis.timestampMs),
    assets: c.genesis.assets,
    allocations: c.genesis.allocations.map((a) => ({ address: a.address, asset: a.asset, amount: BigInt(a.amount) })),
  };
}

/** Loads a channel's producer (block) key from its key file or environment. The key text is never echoed. */
export function loadProducerKey(c: ChannelConfig, env: NodeJS.ProcessEnv = process.env): Ed25519Signer {
  const envName = `KLX_PRODUCER_KEY_${c.name.toUpperCase().replace(/-/g, '_')}`;
  let text: string | undefined = env[envName];
  let origin = envName;
  if (!text && c.producerKeyFile) {
    origin = `key file ${c.producerKeyFile}`;
    try {
      text = readFileSync(c.producerKeyFile, 'utf8');
    } catch {
      throw new ConfigError(`channel ${c.name}: cannot read ${origin}`);
    }
  }
  if (!text) throw new ConfigError(`channel ${c.name}: no producer key (set producerKeyFile or ${envName})`);
  let key: Ed25519Signer;
  try {
    key = Ed25519Signer.fromSeedHex(text);
  } catch {
    throw new ConfigError(`channel ${c.name}: ${origin} does not hold a 32-byte hex ed25519 seed`);
  }
  if (c.producerPublicKey && c.producerPublicKey !== Buffer.from(key.publicKey).toString('hex')) {
    throw new ConfigError(`channel ${c.name}: the producer key does not match producerPublicKey`);
  }
  return key;
}

/** The producer public key a verifier pins: configured explicitly, or derived from the key. */
export function producerPublicKey(c: ChannelConfig, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  if (c.producerPublicKey) return fromHex(c.producerPublicKey, 32);
  return loadProducerKey(c, env).publicKey;
}

/**
 * A secret from the environment: `NAME` holds it, or `NAME_FILE` names a file holding it.
 * The error names the variable, never the value.
 */
export function loadSecret(name: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const direct = env[name];
  if (direct) return direct.trim();
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(`cannot read ${name}_FILE (${what})`);
    }
  }
  throw new ConfigError(`missing ${what}: set ${name} or ${name}_FILE`);
}
