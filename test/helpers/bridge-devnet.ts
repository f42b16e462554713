/**
 * A complete bridge for integration tests: two anvil chains (ids 1 and 137) with the
 * bridge deployed, a fresh database, the shared Redis, and every role as a separate
 * process (BridgeCluster). Blocks are mined on a timer so deposits reach their depth.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPublicClient, createWalletClient, http, type Address, type Hex, type PublicClient, type WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { BridgeCluster, type BridgeClusterOptions } from '../../relayer/devnet/bridge-cluster.ts';
import { startDevnetEvm, type DevnetEvmChain } from '../../relayer/devnet/evm.ts';
import { ANVIL_KEY_0, DEVNET_EVM_USER_KEY } from '../../relayer/devnet/evm-keys.ts';
import { ChannelClient } from '../../relayer/node/client.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { freePort, waitFor } from './processes.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface EvmSide {
  chain: DevnetEvmChain;
  public: PublicClient;
  /** The ERC20 KLX treasury (anvil account 0). */
  treasury: WalletClient;
  /** An EVM user with native coin (anvil account 2). */
  user: WalletClient;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
}

export interface BridgeDevnet {
  schemaPrefix: string;
  /** Stops / restarts the timer that mines empty blocks (a deposit then stays below its depth). */
  pauseMining(): Promise<void>;
  resumeMining(): void;
  db: TestDatabase;
  cluster: BridgeCluster;
  hub: ChannelClient;
  evm: Record<'ethereum' | 'polygon', EvmSide>;
  /** The coordinator's API, when the devnet runs one. */
  coordinatorUrl: string | null;
  stop(): Promise<void>;
}

async function rpcCall(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await r.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function startBridgeDevnet(
  label: string,
  opts: { confirmationBlocks?: number; mineEveryMs?: number; redisUrl?: string; coordinator?: Omit<BridgeClusterOptions['coordinator'] & object, 'port'> } = {},
): Promise<BridgeDevnet> {
  const dir = mkdtempSync(join(tmpdir(), `klx-${label}-`));
  const db = await createTestDatabase(label);
  const evm = await startDevnetEvm(dir, { ethereum: await freePort(), polygon: await freePort() });
  const sides = {} as Record<'ethereum' | 'polygon', EvmSide>;
  for (const c of evm.chains) {
    const chain = { id: c.deployment.chainId, name: c.name, nativeCurrency: { name: 'ETH', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } };
    const transport = http(c.rpcUrl, { retryCount: 0 });
    sides[c.name] = {
      chain: c,
      public: createPublicClient({ chain, transport, cacheTime: 0, pollingInterval: 20 }),
      treasury: createWalletClient({ chain, transport, account: privateKeyToAccount(ANVIL_KEY_0) }),
      user: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_EVM_USER_KEY) }),
      rpc: (method, params) => rpcCall(c.rpcUrl, method, params),
    };
  }
  // Empty blocks on a timer: a deposit reaches its confirmation depth without other traffic.
  let mining = true;
  let paused = false;
  let tick: Promise<unknown> = Promise.resolve();
  const miner = (async () => {
    while (mining) {
      if (!paused) {
        tick = Promise.all(evm.chains.map((c) => rpcCall(c.rpcUrl, 'evm_mine').catch(() => undefined)));
        await tick;
      }
      await new Promise((r) => setTimeout(r, opts.mineEveryMs ?? 250));
    }
  })();
  const schemaPrefix = `t${randomBytes(3).toString('hex')}_`;
  const apiPort = await freePort();
  const coordinatorPort = opts.coordinator ? await freePort() : null;
  let cluster: BridgeCluster;
  try {
    cluster = await BridgeCluster.start({
      databaseUrl: db.url,
      redisUrl: opts.redisUrl ?? REDIS_URL,
      chains: evm.chains.map((c) => ({ name: c.name, rpcUrl: c.rpcUrl, deploymentFile: c.deploymentFile })),
      dir,
      apiPort,
      schemaPrefix,
      confirmationBlocks: opts.confirmationBlocks ?? 2,
      fresh: true,
      ...(opts.coordinator && coordinatorPort ? { coordinator: { ...opts.coordinator, port: coordinatorPort } } : {}),
      ...(process.env.KLX_TEST_ROLE_LOGS ? { onOutput: (role: string, line: string) => console.log(`[${role}] ${line}`) } : {}),
    });
  } catch (e) {
    mining = false;
    await miner;
    await evm.stop();
    await db.drop();
    throw e;
  }
  const hub = new ChannelClient(cluster.hubUrl, 'bridge');
  // Ready once the processor has registered both chains.
  await waitFor('chain registrations', async () => {
    for (const name of ['ethereum', 'polygon']) {
      const r = await fetch(`${cluster.hubUrl}/v1/channels/bridge/bridge/chain/${name}`);
      if (!r.ok) return false;
    }
    return true;
  }, 60_000);
  return {
    schemaPrefix,
    async pauseMining() {
      paused = true;
      await tick;
    },
    resumeMining() {
      paused = false;
    },
    db,
    cluster,
    hub,
    evm: sides,
    coordinatorUrl: coordinatorPort ? `http://127.0.0.1:${coordinatorPort}` : null,
    async stop() {
      await cluster.stop();
      mining = false;
      await miner;
      await evm.stop();
      await db.drop();
    },
  };
}

/** A bridge record over the node API (null when absent). */
export async function bridgeRecord<T>(d: BridgeDevnet, path: string): Promise<T | null> {
  const r = await fetch(`${d.cluster.hubUrl}/v1/channels/bridge/bridge/${path}`);
  if (r.status === 404) return null;
  return (await r.json()) as T;
}

export type { Address, Hex };

import { erc20Abi, maxUint256 } from 'viem';
import { loadArtifact } from '../../adapters/evm/artifacts.ts';

/** Deposits `amount` of an ERC20 through the bridge (approving first); returns the tx hash. */
export async function depositErc20(side: EvmSide, from: WalletClient, token: Address, amount: bigint, hubRecipient: string, refundTo?: Address): Promise<Hex> {
  const account = from.account;
  if (!account) throw new Error('wallet without account');
  const bridge = side.chain.deployment.bridge;
  const approve = await from.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [bridge, maxUint256], account, chain: from.chain });
  await side.public.waitForTransactionReceipt({ hash: approve, pollingInterval: 20, timeout: 30_000 });
  const hash = await from.writeContract({
    address: bridge,
    abi: loadArtifact('KlxBridge').abi,
    functionName: 'deposit',
    args: [token, amount, hubRecipient, refundTo ?? account.address],
    account,
    chain: from.chain,
  });
  const receipt = await side.public.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 30_000 });
  if (receipt.status !== 'success') throw new Error(`deposit ${hash} reverted`);
  return hash;
}

export async function depositNative(side: EvmSide, from: WalletClient, amount: bigint, hubRecipient: string): Promise<Hex> {
  const account = from.account;
  if (!account) throw new Error('wallet without account');
  const hash = await from.writeContract({
    address: side.chain.deployment.bridge,
    abi: loadArtifact('KlxBridge').abi,
    functionName: 'depositNative',
    args: [hubRecipient, account.address],
    value: amount,
    account,
    chain: from.chain,
  });
  const receipt = await side.public.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 30_000 });
  if (receipt.status !== 'success') throw new Error(`deposit ${hash} reverted`);
  return hash;
}

export function erc20Balance(side: EvmSide, token: Address, holder: Address): Promise<bigint> {
  return side.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [holder] });
}
