/**
 * The devnet: network "devnet", address prefix "klxd", two channels ("bridge", the
 * bridge channel, and "main"), each with a deterministic producer key and genesis
 * allocations to well-known devnet users. Devnet keys are public knowledge
 * (`klx-bridge keygen --devnet alice`): never use them for anything of value.
 */
import { addressFromPublicKey } from '../ledger/address.ts';
import { toHex } from '../ledger/bytes.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import type { RawConfig } from '../config/config.ts';
import { DEVNET_PAYER_KEY, devnetEvmKey } from './evm-keys.ts';
import { devnetSolanaSeed } from './solana-keys.ts';

export const DEVNET_NETWORK = 'devnet';
export const DEVNET_PREFIX = 'klxd';
export const DEVNET_CHANNELS = ['bridge', 'main'] as const;
export const DEVNET_USERS = ['alice', 'bob', 'exchange'] as const;

export const devnetProducer = (channel: string) => Ed25519Signer.devnet(`producer:${channel}`);
export const devnetUser = (name: string) => Ed25519Signer.devnet(name);
export const devnetAddress = (name: string) => addressFromPublicKey(DEVNET_PREFIX, devnetUser(name).publicKey);

/** A channel with the devnet assets (KLX, 9 decimals; ETH, 18; SOL, 9, only ever bridged in) and funded addresses. */
export function klxEthChannel(name: string, producerPublicKey: Uint8Array, timestampMs: string, funded: { address: string; klx: string; eth: string }[]) {
  return {
    name,
    producerPublicKey: toHex(producerPublicKey),
    genesis: {
      timestampMs,
      assets: [
        { id: 'KLX', decimals: 9 },
        { id: 'ETH', decimals: 18 },
        { id: 'SOL', decimals: 9 },
      ],
      allocations: funded.flatMap((f) => [
        { address: f.address, asset: 'KLX', amount: f.klx },
        { address: f.address, asset: 'ETH', amount: f.eth },
      ]),
    },
  };
}

export interface DevnetChainRef {
  name: string;
  rpcUrl: string;
  deploymentFile: string;
}

export const DEVNET_LISTENERS = 5;
export const DEVNET_APPROVERS = 3;
/** Hub keys of the devnet's bridge roles (public knowledge: devnet only). */
export const devnetRoleKey = (role: string) => Ed25519Signer.devnet(`role:${role}`);
export const devnetRoleAddress = (role: string) => addressFromPublicKey(DEVNET_PREFIX, devnetRoleKey(role).publicKey);
export const devnetListenerNames = () => Array.from({ length: DEVNET_LISTENERS }, (_, i) => `listener-${i}`);
export const devnetApproverNames = () => Array.from({ length: DEVNET_APPROVERS }, (_, i) => `approver-${i}`);

/** The devnet's bridge section: 5 listeners (quorum 3), 3 approvers (quorum 2). */
export function devnetBridge() {
  return {
    channel: 'bridge',
    listeners: devnetListenerNames().map(devnetRoleAddress),
    listenerQuorum: 3,
    approvers: devnetApproverNames().map(devnetRoleAddress),
    approverQuorum: 2,
  };
}

/** Devnet listeners attest custody every 5 EVM blocks (every 10 s on mainnet-like chains would be 20+). */
export const DEVNET_EVM_CUSTODY_SYNC_BLOCKS = 5;

/** Ethereum carries the ERC20 KLX and ETH; Polygon a bridged KLX minted by its bridge. */
export function devnetEvmChains(chains: readonly DevnetChainRef[], confirmationBlocks: number) {
  return chains.map((c) => ({
    ...c,
    confirmations: { blocks: confirmationBlocks },
    custodySyncBlocks: DEVNET_EVM_CUSTODY_SYNC_BLOCKS,
    assets:
      c.name === 'ethereum'
        ? [
            { hubAsset: 'KLX', chainAsset: 'klx', decimals: 18 },
            { hubAsset: 'ETH', chainAsset: 'native', decimals: 18 },
          ]
        : [{ hubAsset: 'KLX', chainAsset: 'klx', decimals: 18 }],
  }));
}

/** The devnet's Solana cluster carries bridged KLX (minted there) and wrapped SOL (locked there). */
export function devnetSolanaChains(chains: readonly DevnetChainRef[]) {
  return chains.map((c) => ({
    ...c,
    custodySyncBlocks: 25,
    assets: [
      { hubAsset: 'KLX', chainAsset: 'klx' },
      { hubAsset: 'SOL', chainAsset: 'sol' },
    ],
  }));
}

/** KLX every devnet user holds on every channel at genesis (base units, 9 decimals). */
const DEVNET_USER_KLX = 1_000_000_000_000_000n;
const KLX = 1_000_000_000n;

/** Where the devnet's coordinator listens, its log's schema, and whether it runs Ethereum's ERC20 KLX migration. */
export interface DevnetCoordinatorOptions {
  port: number;
  schema: string;
  /** Migration limits (base units of hub KLX); default 1,000,000 KLX per transfer, 10,000,000 KLX per 24 h. */
  migration?: { perTransfer?: string; per24h?: string; cap?: string } | false;
  voteTimeoutMs?: number;
  resolverAfterMs?: number;
}

/**
 * The devnet's coordinator section: its hub address (devnet role key "coordinator") and, when
 * Ethereum is bridged, the ERC20 KLX → native KLX migration. Every KLX the devnet's genesis
 * hands out counts as premint, so the cap covers the devnet's whole native supply.
 */
export function devnetCoordinator(o: DevnetCoordinatorOptions, migrationChain: string | undefined) {
  const premint = DEVNET_USER_KLX * BigInt(DEVNET_USERS.length * DEVNET_CHANNELS.length);
  const m = o.migration === false ? undefined : (o.migration ?? {});
  return {
    address: devnetRoleAddress('coordinator'),
    api: { host: '127.0.0.1', port: o.port },
    url: `http://127.0.0.1:${o.port}`,
    schema: o.schema,
    voteTimeoutMs: o.voteTimeoutMs ?? 5000,
    resolverAfterMs: o.resolverAfterMs ?? 5000,
    ...(m && migrationChain
      ? {
          migration: {
            chain: migrationChain,
            hubAsset: 'KLX',
            premint: premint.toString(),
            perTransfer: m.perTransfer ?? (1_000_000n * KLX).toString(),
            per24h: m.per24h ?? (10_000_000n * KLX).toString(),
            ...(m.cap ? { cap: m.cap } : {}),
          },
        }
      : {}),
  };
}

export function devnetConfig(
  databaseUrl: string,
  port: number,
  redisUrl?: string,
  evmChains: DevnetChainRef[] = [],
  opts: { schema?: string; confirmationBlocks?: number; solanaChains?: DevnetChainRef[]; coordinator?: DevnetCoordinatorOptions } = {},
): RawConfig {
  const solanaChains = opts.solanaChains ?? [];
  return {
    network: DEVNET_NETWORK,
    addressPrefix: DEVNET_PREFIX,
    databaseUrl,
    ...(redisUrl ? { redisUrl } : {}),
    ...(evmChains.length + solanaChains.length > 0 ? { bridge: devnetBridge() } : {}),
    ...(evmChains.length > 0 ? { evmChains: devnetEvmChains(evmChains, opts.confirmationBlocks ?? 3) } : {}),
    ...(solanaChains.length > 0 ? { solanaChains: devnetSolanaChains(solanaChains) } : {}),
    ...(opts.coordinator ? { coordinator: devnetCoordinator(opts.coordinator, evmChains.some((c) => c.name === 'ethereum') ? 'ethereum' : undefined) } : {}),
    hubUrl: `http://127.0.0.1:${port}`,
    schema: opts.schema ?? 'hub',
    instance: 'devnet',
    api: { host: '127.0.0.1', port },
    channels: DEVNET_CHANNELS.map((name) =>
      klxEthChannel(
        name,
        devnetProducer(name).publicKey,
        '1767225600000',
        DEVNET_USERS.map((u) => ({ address: devnetAddress(u), klx: DEVNET_USER_KLX.toString(), eth: '100000000000000000000' })),
      ),
    ),
  };
}

/** Environment entries that hand the devnet producer keys (and the chains' co-signing keys) to the processors. */
export function devnetProducerEnv(): Record<string, string> {
  return {
    ...Object.fromEntries(DEVNET_CHANNELS.map((c) => [`KLX_PRODUCER_KEY_${c.toUpperCase()}`, devnetProducer(c).exportSeedHex()])),
    KLX_PROCESSOR_CHAIN_KEY_EVM: devnetEvmKey('processor'),
    KLX_PROCESSOR_CHAIN_KEY_SOLANA: devnetSolanaSeed('processor'),
  };
}

/** The devnet's chain keys of each role (approvers' signing keys, the submitter's fee payers), per family. */
export function devnetRoleEnv(role: string): Record<string, string> {
  const env: Record<string, string> = { KLX_HUB_KEY: devnetRoleKey(role).exportSeedHex() };
  if (role.startsWith('approver-')) Object.assign(env, { KLX_CHAIN_KEY_EVM: devnetEvmKey(role), KLX_CHAIN_KEY_SOLANA: devnetSolanaSeed(role) });
  if (role === 'coordinator') return { KLX_COORDINATOR_KEY: devnetRoleKey(role).exportSeedHex() };
  if (role === 'submitter') Object.assign(env, { KLX_PAYER_KEY_EVM: DEVNET_PAYER_KEY, KLX_PAYER_KEY_SOLANA: devnetSolanaSeed('fee-payer') });
  return env;
}

/** The bridge role processes of a devnet (each a separate `klx-bridge` process). */
export function devnetRoleProcesses(configFile: string, schemaPrefix: string, withCoordinator = false): { name: string; args: string[]; env: Record<string, string> }[] {
  const role = (name: string, command: string) => ({
    name,
    args: [command, '--config', configFile, '--schema', `${schemaPrefix}${name.replace(/-/g, '_')}`],
    env: devnetRoleEnv(name),
  });
  return [
    ...devnetListenerNames().map((n) => role(n, 'listener')),
    ...devnetApproverNames().map((n) => role(n, 'approver')),
    role('submitter', 'submitter'),
    ...(withCoordinator ? [{ name: 'coordinator', args: ['coordinator', '--config', configFile], env: devnetRoleEnv('coordinator') }] : []),
  ];
}
