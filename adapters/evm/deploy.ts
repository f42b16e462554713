/**
 * Deploys the EVM side of the bridge (used by `klx-bridge deploy evm` and the devnet):
 * the KlxBridge, and optionally the ERC20 KLX (devnets) or a bridged KLX whose only minter
 * is the bridge (e.g. Polygon). The result is an `EvmDeployment` file the relayer reads.
 */
import { createPublicClient, createWalletClient, getAddress, getContractAddress, http, zeroAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadArtifact } from './artifacts.ts';
import type { EvmDeployment } from './deployment.ts';

export interface EvmValidatorSet {
  processor: Address;
  approvers: Address[];
  approverQuorum: number;
  listeners: Address[];
  listenerQuorum: number;
}

export interface DeployOptions {
  rpcUrl: string;
  deployerKey: Hex;
  validators: EvmValidatorSet;
  rotationDelaySeconds: bigint;
  /** 'erc20': deploy the fixed-supply ERC20 KLX to `treasury`; 'bridged': deploy bridged KLX minted by the bridge; an address: use that token; 'none'. */
  klx: 'erc20' | 'bridged' | 'none' | Address;
  treasury?: Address;
  /** 24 h outflow caps in base units (default: no cap). */
  klxDailyCap?: bigint;
  nativeDailyCap?: bigint;
}

const NO_CAP = (1n << 256n) - 1n;

export async function deployEvmBridge(o: DeployOptions): Promise<EvmDeployment> {
  const account = privateKeyToAccount(o.deployerKey);
  const transport = http(o.rpcUrl, { retryCount: 0 });
  const publicClient = createPublicClient({ transport, cacheTime: 0 });
  const chainId = await publicClient.getChainId();
  const chain = { id: chainId, name: `chain-${chainId}`, nativeCurrency: { name: 'native', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [o.rpcUrl] } } };
  const wallet = createWalletClient({ account, chain, transport });
  const confirmed = async (hash: Hex) => {
    const r = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50, timeout: 120_000 });
    if (r.status !== 'success' || !r.contractAddress) throw new Error(`deployment transaction ${hash} failed`);
    return r;
  };

  let klxToken: Address | undefined;
  if (o.klx === 'erc20') {
    if (!o.treasury) throw new Error('a treasury address is needed to deploy the ERC20 KLX');
    const t = loadArtifact('KlxToken');
    klxToken = getAddress((await confirmed(await wallet.deployContract({ abi: t.abi, bytecode: t.bytecode, args: [o.treasury] }))).contractAddress as Address);
  } else if (o.klx !== 'none' && o.klx !== 'bridged') {
    klxToken = o.klx;
  }
  const nonce = BigInt(await publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' }));
  // A bridged KLX is deployed right after the bridge, so its address is known in advance.
  const bridgedKlx = o.klx === 'bridged' ? getContractAddress({ from: account.address, nonce: nonce + 1n }) : undefined;
  const tokens: Address[] = [zeroAddress];
  const settings = [{ allowed: true, mintBurn: false, dailyCap: o.nativeDailyCap ?? NO_CAP }];
  const klxAddress = klxToken ?? bridgedKlx;
  if (klxAddress) {
    tokens.push(klxAddress);
    settings.push({ allowed: true, mintBurn: o.klx === 'bridged', dailyCap: o.klxDailyCap ?? NO_CAP });
  }
  const b = loadArtifact('KlxBridge');
  const bridgeReceipt = await confirmed(
    await wallet.deployContract({ abi: b.abi, bytecode: b.bytecode, args: [o.validators, o.rotationDelaySeconds, tokens, settings], nonce: Number(nonce) }),
  );
  const bridge = getAddress(bridgeReceipt.contractAddress as Address);
  if (bridgedKlx) {
    const t = loadArtifact('KlxBridgedToken');
    const r = await confirmed(await wallet.deployContract({ abi: t.abi, bytecode: t.bytecode, args: [bridge], nonce: Number(nonce + 1n) }));
    if (r.contractAddress?.toLowerCase() !== bridgedKlx.toLowerCase()) throw new Error('bridged KLX landed at an unexpected address');
  }
  return {
    family: 'evm',
    chainId,
    bridge,
    klxToken: klxAddress ?? null,
    klxKind: o.klx === 'bridged' ? 'bridged' : klxAddress ? 'erc20' : 'none',
    deployer: account.address,
    deployedAtBlock: bridgeReceipt.blockNumber.toString(),
    rotationDelaySeconds: o.rotationDelaySeconds.toString(),
    validators: o.validators,
  };
}
