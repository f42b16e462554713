// An in-process EVM for tests: Hardhat 3's simulated network (EDR) with viem clients.
//
//   const chain = await createEvmChain();            // compiles contracts/evm first if needed
//   after(() => chain.close());
//   const token = await chain.viem.deployContract('KlxToken', [treasury]);
//
// Each call creates a fresh, independent chain (Hardhat 3 `network.create()`); the first
// one in a process costs about 1 s (EDR start), later ones a few ms. Compilation uses the
// `solc` npm package's wasm build (hardhat.config.ts), never a download; it runs once per
// process, under a lock so that test files running in parallel do not build at once.
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { HardhatRuntimeEnvironment } from 'hardhat/types/hre';
import type { NetworkConnection } from 'hardhat/types/network';
import type { EdrNetworkConfigOverride } from 'hardhat/types/config';
import type {
  HardhatViemHelpers,
  PublicClient,
  TestClient,
  WalletClient,
} from '@nomicfoundation/hardhat-viem/types';
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Abi, type Hex } from 'viem';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG_PATH = path.join(PROJECT_ROOT, 'hardhat.config.ts');

export interface EvmChainOptions {
  /** Chain id of the simulated chain (default 31337), e.g. 1 or 137 to mimic Ethereum or Polygon. */
  chainId?: number;
  /** Any other setting of Hardhat's simulated network (mining, hardfork, accounts...). */
  override?: EdrNetworkConfigOverride;
}

export interface EvmChain {
  readonly connection: NetworkConnection;
  /** hardhat-viem helpers: deployContract, getContractAt, get*Client(s). */
  readonly viem: HardhatViemHelpers;
  readonly publicClient: PublicClient;
  /** Wallet clients of the funded, unlocked accounts (20 by default, 10,000 ETH each). */
  readonly wallets: readonly WalletClient[];
  /** Test actions: mine, snapshot/revert, setBalance, impersonate... */
  readonly testClient: TestClient;
  readonly chainId: number;
  /** The wallet at `index`; throws if there is none. */
  wallet(index: number): WalletClient;
  close(): Promise<void>;
}

let hrePromise: Promise<HardhatRuntimeEnvironment> | undefined;
let buildPromise: Promise<void> | undefined;

/** This project's Hardhat runtime, independent of the working directory. */
export function hardhat(): Promise<HardhatRuntimeEnvironment> {
  hrePromise ??= (async () => {
    const [{ createHardhatRuntimeEnvironment }, { default: config }] = await Promise.all([
      import('hardhat/hre'),
      import('../../hardhat.config.ts'),
    ]);
    return createHardhatRuntimeEnvironment(config, { config: CONFIG_PATH }, PROJECT_ROOT);
  })();
  return hrePromise;
}

/**
 * Compiles contracts/evm into artifacts/ (a no-op when nothing changed), once per process.
 * Throws with the compiler's messages if the build fails.
 */
export function ensureContractsBuilt(): Promise<void> {
  buildPromise ??= (async () => {
    const hre = await hardhat();
    await withLock(path.join(hre.config.paths.cache, 'klx-build.lock'), async () => {
      await hre.tasks.getTask('build').run({ quiet: true, noTests: true });
    });
  })();
  return buildPromise;
}

/** A fresh in-process EVM chain with viem clients; contracts are built first if needed. */
export async function createEvmChain(options: EvmChainOptions = {}): Promise<EvmChain> {
  await ensureContractsBuilt();
  const hre = await hardhat();
  const override: EdrNetworkConfigOverride = { ...options.override };
  if (options.chainId !== undefined) override.chainId = options.chainId;
  const connection = await hre.network.create({ network: 'default', override });
  try {
    const { viem } = connection;
    const [publicClient, wallets, testClient] = await Promise.all([
      viem.getPublicClient({ cacheTime: 0 }),
      viem.getWalletClients(),
      viem.getTestClient(),
    ]);
    const chainId = await publicClient.getChainId();
    let closed = false;
    return {
      connection,
      viem,
      publicClient,
      wallets,
      testClient,
      chainId,
      wallet(index: number): WalletClient {
        const w = wallets[index];
        if (w === undefined) throw new Error(`evm-chain: no wallet #${index} (${wallets.length} accounts)`);
        return w;
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** What a reverted contract call carried: the custom error's name and decoded arguments. */
export interface DecodedRevert {
  errorName: string;
  args: readonly unknown[];
  /** Raw revert data, when the node returned it. */
  raw: Hex | undefined;
}

/**
 * Awaits `action`, expects it to revert, and returns the decoded custom error. Calls made
 * through a viem contract instance decode with that contract's ABI; for anything else (a
 * deployment, a raw transaction) pass the ABI that declares the error (see `readAbi`).
 * Fails if the action does not revert or the revert cannot be decoded.
 */
export async function expectRevert(action: Promise<unknown>, abi?: Abi): Promise<DecodedRevert> {
  try {
    await action;
  } catch (err) {
    const decoded = decodeRevert(err, abi);
    if (decoded !== undefined) return decoded;
    throw new Error(`expected a decodable contract revert, got: ${errorText(err)}`, { cause: err });
  }
  throw new Error('expected the call to revert, but it succeeded');
}

/** The custom error (or Error(string), Panic(uint256)) a failed call or transaction carries. */
export function decodeRevert(err: unknown, abi?: Abi): DecodedRevert | undefined {
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data !== undefined) {
      return { errorName: reverted.data.errorName, args: reverted.data.args ?? [], raw: reverted.raw };
    }
  }
  const raw = findRevertData(err);
  if (raw === undefined) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: abi ?? [], data: raw });
    return { errorName: decoded.errorName, args: decoded.args ?? [], raw };
  } catch {
    return undefined;
  }
}

/** The ABI of a built contract, e.g. to decode a constructor's revert. */
export async function readAbi(contractName: string): Promise<Abi> {
  await ensureContractsBuilt();
  const hre = await hardhat();
  const artifact = await hre.artifacts.readArtifact(contractName);
  return artifact.abi as Abi;
}

/** Revert data somewhere down an error's cause chain (Hardhat puts it on the innermost). */
function findRevertData(err: unknown): Hex | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 20 && typeof current === 'object' && current !== null; depth++) {
    const { data, cause } = current as { data?: unknown; cause?: unknown };
    if (typeof data === 'string' && /^0x(?:[0-9a-fA-F]{2}){4,}$/.test(data)) return data as Hex;
    current = cause;
  }
  return undefined;
}

/** Asserts that `action` reverts with the custom error `errorName`; returns its arguments. */
export async function expectCustomError(
  action: Promise<unknown>,
  errorName: string,
  abi?: Abi,
): Promise<readonly unknown[]> {
  const revert = await expectRevert(action, abi);
  if (revert.errorName !== errorName) {
    throw new Error(`expected revert ${errorName}, got ${revert.errorName}(${revert.args.map(String).join(', ')})`);
  }
  return revert.args;
}

function errorText(err: unknown): string {
  if (err instanceof BaseError) return err.shortMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A cross-process lock: an exclusive directory; one left by a dead process expires. */
async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const staleMs = 120_000;
  const deadline = Date.now() + 300_000;
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleMs) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`evm-chain: timed out waiting for ${lockDir}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
