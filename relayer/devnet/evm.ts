/**
 * The devnet's EVM chains: two local anvil nodes standing in for Ethereum (chain id 1,
 * the ERC20 KLX) and Polygon (chain id 137, bridged KLX), with the bridge deployed on
 * each by the same code operators use (`klx-bridge deploy evm`). The validator keys are
 * derived from public labels: devnet only, never for anything of value.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { deployEvmBridge, type EvmValidatorSet } from '../../adapters/evm/deploy.ts';
import type { EvmDeployment } from '../../adapters/evm/deployment.ts';

import { ANVIL_KEY_0, devnetEvmKey } from './evm-keys.ts';

export { devnetEvmKey };

export function devnetEvmValidators(): EvmValidatorSet {
  const addr = (label: string) => privateKeyToAccount(devnetEvmKey(label)).address;
  return {
    processor: addr('processor'),
    approvers: [0, 1, 2].map((i) => addr(`approver-${i}`)),
    approverQuorum: 2,
    listeners: [0, 1, 2, 3, 4].map((i) => addr(`listener-${i}`)),
    listenerQuorum: 3,
  };
}

export interface DevnetEvmChain {
  name: 'ethereum' | 'polygon';
  rpcUrl: string;
  deploymentFile: string;
  deployment: EvmDeployment;
}

function anvilBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const bin = join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

async function waitForRpc(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with code ${child.exitCode} (port in use?)`);
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('anvil did not answer within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ethereum on `base`, Polygon on `base + 1`: the devnet's documented ports. */
export const evmPorts = (base: number): EvmPorts => ({ ethereum: base, polygon: base + 1 });
export type EvmPorts = Readonly<Record<'ethereum' | 'polygon', number>>;

/** Starts the devnet EVM chains and deploys the bridge on each; `stop` kills the nodes it started. */
export async function startDevnetEvm(dir: string, ports: EvmPorts): Promise<{ chains: DevnetEvmChain[]; stop: () => Promise<void> }> {
  const bin = anvilBinary();
  if (!bin) throw new Error('anvil is not installed (npm package @foundry-rs/anvil): run the install again');
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
      ),
    );
  };
  try {
    const chains: DevnetEvmChain[] = [];
    mkdirSync(join(dir, 'deployments'), { recursive: true });
    for (const spec of [
      { name: 'ethereum', chainId: 1, klx: 'erc20' },
      { name: 'polygon', chainId: 137, klx: 'bridged' },
    ] as const) {
      const port = ports[spec.name];
      const child = spawn(bin, ['--port', String(port), '--host', '127.0.0.1', '--chain-id', String(spec.chainId), '--silent', '--slots-in-an-epoch', '2'], { stdio: 'ignore' });
      children.push(child);
      const rpcUrl = `http://127.0.0.1:${port}`;
      await waitForRpc(rpcUrl, child);
      const deployment = await deployEvmBridge({
        rpcUrl,
        deployerKey: ANVIL_KEY_0,
        validators: devnetEvmValidators(),
        rotationDelaySeconds: 600n,
        klx: spec.klx,
        treasury: privateKeyToAccount(ANVIL_KEY_0).address,
      });
      const deploymentFile = join(dir, 'deployments', `${spec.name}.json`);
      writeFileSync(deploymentFile, `${JSON.stringify(deployment, null, 2)}\n`);
      chains.push({ name: spec.name, rpcUrl, deploymentFile, deployment });
    }
    return { chains, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
