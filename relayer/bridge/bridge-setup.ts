/**
 * What the bridge roles derive from the config: one adapter per configured chain (the
 * only place a chain family is chosen), the chain registration the hub must carry, and
 * the role's view of the hub. Every role derives the same registration from its own
 * config and refuses to work if the hub's record differs.
 */
import type pg from 'pg';
import { getAddress } from 'viem';
import { ChainAdapterRegistry, type ChainAdapter, type ChainAssetSpec } from '../../adapters/chain-adapter.ts';
import { EvmAdapter } from '../../adapters/evm/evm-adapter.ts';
import { SolanaAdapter } from '../../adapters/solana/solana-adapter.ts';
import { NATIVE_MINT } from '@solana/spl-token';
import type { ChainRegisterBody } from '../ledger/bridge-bodies.ts';
import { keys, readRecord, type ChainRecord } from '../ledger/bridge-state.ts';
import { canonicalJson, type CanonicalValue } from '../ledger/canonical-json.ts';
import { ConfigError, KlxError } from '../ledger/errors.ts';
import type { Ed25519Signer } from '../ledger/keys.ts';
import type { LedgerState } from '../ledger/state.ts';
import { genesisSpec, loadEvmDeployments, loadSolanaDeployments, producerPublicKey, type BridgeConfig, type ChannelConfig } from '../config/config.ts';
import { HubView } from './hub-view.ts';

export interface ConfiguredChain {
  name: string;
  adapter: ChainAdapter;
  registration: ChainRegisterBody;
  /** Chain asset id → its spec (decimals, mode, hub decimals). */
  assets: Map<string, ChainAssetSpec & { hubAsset: string }>;
  /** Listeners attest custody at every height divisible by this. */
  custodySyncBlocks: number;
}

export function bridgeChannel(cfg: BridgeConfig): { channel: ChannelConfig; bridge: NonNullable<BridgeConfig['bridge']> } {
  const bridge = cfg.bridge;
  if (!bridge) throw new ConfigError('the config has no "bridge" section (validator sets of the bridge channel)');
  const channel = cfg.channels.find((c) => c.name === bridge.channel);
  if (!channel) throw new ConfigError(`bridge.channel "${bridge.channel}" is not configured`);
  return { channel, bridge };
}

type AssetSpecs = Map<string, ChainAssetSpec & { hubAsset: string }>;

export function configuredChains(cfg: BridgeConfig): ConfiguredChain[] {
  const { channel, bridge } = bridgeChannel(cfg);
  const hubDecimals = new Map(channel.genesis.assets.map((a) => [a.id, a.decimals]));
  const hubDecimalsOf = (chain: string, hubAsset: string) => {
    const dec = hubDecimals.get(hubAsset);
    if (dec === undefined) throw new ConfigError(`chain ${chain}: hub asset ${hubAsset} is not an asset of channel ${channel.name}`);
    return dec;
  };
  const configured = (adapter: ChainAdapter, chainRef: string, assets: AssetSpecs, custodySyncBlocks: number): ConfiguredChain => ({
    name: adapter.chain,
    adapter,
    assets,
    custodySyncBlocks,
    registration: {
      chain: adapter.chain,
      family: adapter.family,
      chainRef,
      custody: adapter.custody,
      listeners: bridge.listeners,
      listenerQuorum: bridge.listenerQuorum,
      approvers: bridge.approvers,
      approverQuorum: bridge.approverQuorum,
      assets: [...assets.values()].map((a) => ({ hubAsset: a.hubAsset, chainAsset: a.chainAsset, chainDecimals: a.decimals, mode: a.mode })),
    },
  });
  return [...evmChains(cfg, hubDecimalsOf, configured), ...solanaChains(cfg, hubDecimalsOf, configured)];
}

type HubDecimalsOf = (chain: string, hubAsset: string) => number;
type Configured = (adapter: ChainAdapter, chainRef: string, assets: AssetSpecs, custodySyncBlocks: number) => ConfiguredChain;

function evmChains(cfg: BridgeConfig, hubDecimalsOf: HubDecimalsOf, configured: Configured): ConfiguredChain[] {
  const deployments = loadEvmDeployments(cfg);
  return cfg.evmChains.map((c) => {
    const d = deployments.get(c.name);
    if (!d) throw new ConfigError(`evm chain ${c.name}: no deployment`);
    const adapter = new EvmAdapter({
      chain: c.name,
      rpcUrl: c.rpcUrl,
      deployment: d,
      confirmations: c.confirmations === 'finalized' ? { kind: 'finalized' } : { kind: 'blocks', count: c.confirmations.blocks },
    });
    const assets: AssetSpecs = new Map();
    for (const a of c.assets) {
      let chainAsset = a.chainAsset;
      let mode: 'lock' | 'mint' = 'lock';
      if (a.chainAsset === 'klx') {
        if (!d.klxToken) throw new ConfigError(`evm chain ${c.name}: the deployment has no KLX token`);
        chainAsset = getAddress(d.klxToken);
        mode = d.klxKind === 'bridged' ? 'mint' : 'lock';
      } else if (a.chainAsset !== 'native') {
        chainAsset = getAddress(a.chainAsset);
      }
      assets.set(chainAsset, { chainAsset, decimals: a.decimals, hubDecimals: hubDecimalsOf(c.name, a.hubAsset), mode, hubAsset: a.hubAsset });
    }
    return configured(adapter, String(d.chainId), assets, c.custodySyncBlocks);
  });
}

/** Solana: "klx" is the deployment's bridged-KLX mint (minted and burnt), "sol" wrapped SOL, anything else a locked SPL mint. */
function solanaChains(cfg: BridgeConfig, hubDecimalsOf: HubDecimalsOf, configured: Configured): ConfiguredChain[] {
  const deployments = loadSolanaDeployments(cfg);
  return cfg.solanaChains.map((c) => {
    const d = deployments.get(c.name);
    if (!d) throw new ConfigError(`solana chain ${c.name}: no deployment`);
    const assets: AssetSpecs = new Map();
    for (const a of c.assets) {
      let spec: { chainAsset: string; decimals: number; mode: 'lock' | 'mint' };
      if (a.chainAsset === 'klx') {
        if (!d.klxMint) throw new ConfigError(`solana chain ${c.name}: the deployment has no bridged-KLX mint`);
        spec = { chainAsset: d.klxMint, decimals: d.klxDecimals, mode: 'mint' };
      } else if (a.chainAsset === 'sol') {
        spec = { chainAsset: NATIVE_MINT.toBase58(), decimals: 9, mode: 'lock' };
      } else {
        spec = { chainAsset: a.chainAsset, decimals: a.decimals ?? 0, mode: 'lock' };
      }
      if (a.decimals !== undefined && a.decimals !== spec.decimals) throw new ConfigError(`solana chain ${c.name}: ${a.chainAsset} has ${spec.decimals} decimals, not ${a.decimals}`);
      assets.set(spec.chainAsset, { ...spec, hubDecimals: hubDecimalsOf(c.name, a.hubAsset), hubAsset: a.hubAsset });
    }
    const adapter = new SolanaAdapter({
      chain: c.name,
      network: cfg.network,
      rpcUrl: c.rpcUrl,
      multisig: d.multisig,
      processor: d.processor,
      approvers: d.approvers,
      approverQuorum: d.approverQuorum,
      nonceAccount: d.nonceAccount,
      feePayer: d.feePayer,
      assets: [...assets.values()].map((a) => ({ mint: a.chainAsset, decimals: a.decimals, mode: a.mode })),
      startSlot: BigInt(d.startSlot),
    });
    return configured(adapter, d.cluster, assets, c.custodySyncBlocks);
  });
}

export function adapterRegistry(chains: readonly ConfiguredChain[]): ChainAdapterRegistry {
  const r = new ChainAdapterRegistry();
  for (const c of chains) r.register(c.adapter);
  return r;
}

/** Whether a stored registration record is exactly the one this role's config derives. */
export function sameRegistration(record: unknown, chain: ConfiguredChain): boolean {
  return canonicalJson(record as CanonicalValue) === canonicalJson(chain.registration);
}

/** Whether the hub carries exactly the registration this role's config derives (null: not registered yet). */
export function registrationMatches(state: LedgerState, chain: ConfiguredChain): boolean | null {
  const rec = readRecord<ChainRecord>(state, keys.chain(chain.name));
  return rec ? sameRegistration(rec, chain) : null;
}

export class RegistrationMismatch extends KlxError {
  constructor(chain: string) {
    super('REGISTRATION_MISMATCH', `the hub's registration of ${chain} differs from this role's configuration (custody, validator sets or assets): refusing to act`, false, { chain });
  }
}

export function hubViewFor(cfg: BridgeConfig, pool: pg.Pool, schema: string, key: Ed25519Signer): HubView {
  const { channel } = bridgeChannel(cfg);
  if (schema === cfg.schema) throw new ConfigError("a role must use its own schema, not the processors'");
  return new HubView({
    pool,
    schema,
    identity: { network: cfg.network, channel: channel.name, addressPrefix: cfg.addressPrefix, producer: producerPublicKey(channel), genesis: genesisSpec(channel) },
    hubUrl: cfg.hubUrl ?? `http://${cfg.api.host}:${cfg.api.port}`,
    key,
  });
}
