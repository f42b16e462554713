/**
 * The devnet's Solana cluster: the in-repo JSON-RPC server over solana-bankrun (real SPL
 * Token, Associated Token Account and Memo programs; no solana-test-validator runs here),
 * with the bridge deployed by adapters/solana/deploy.ts: an SPL multisig of the processor
 * and 3 approvers (threshold 3), a 7-decimal bridged-KLX mint, wrapped-SOL custody and the
 * durable nonce account. Empty slots are produced on a timer, so deposits become finalized
 * without other traffic. Keys are derived from public labels: devnet only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SystemProgram } from '@solana/web3.js';
import { NATIVE_MINT } from '@solana/spl-token';
import { deploySolanaBridge } from '../../adapters/solana/deploy.ts';
import type { SolanaDeployment } from '../../adapters/solana/deployment.ts';
import { SolanaBankrunRpc } from './solana-bankrun-rpc.ts';
import { DEVNET_SOLANA_APPROVERS, devnetSolanaKeypair } from './solana-keys.ts';

export interface DevnetSolanaChain {
  name: 'solana';
  rpcUrl: string;
  deploymentFile: string;
  deployment: SolanaDeployment;
  rpc: SolanaBankrunRpc;
}

/** Starts the cluster on `port` (0: any free port), deploys the bridge and funds the fee payer and the demo user. */
export async function startDevnetSolana(dir: string, port: number, o: { slotMs?: number; finalityLag?: number } = {}): Promise<{ chain: DevnetSolanaChain; stop: () => Promise<void> }> {
  const rpc = await SolanaBankrunRpc.start({ finalityLag: o.finalityLag ?? 2 });
  let timer: NodeJS.Timeout | undefined;
  const stop = async () => {
    clearInterval(timer);
    await rpc.close();
  };
  try {
    const rpcUrl = await rpc.listen(port);
    const key = (label: string) => devnetSolanaKeypair(label).publicKey.toBase58();
    const deployment = await deploySolanaBridge(
      rpc,
      {
        cluster: 'bankrun',
        processor: key('processor'),
        approvers: DEVNET_SOLANA_APPROVERS.map(key),
        approverQuorum: 2,
        feePayer: key('fee-payer'),
        klxDecimals: 7,
        custodyMints: [NATIVE_MINT.toBase58()],
        keys: { multisig: devnetSolanaKeypair('multisig'), klxMint: devnetSolanaKeypair('klx-mint'), nonce: devnetSolanaKeypair('nonce') },
      },
    );
    await rpc.send([
      SystemProgram.transfer({ fromPubkey: rpc.payer.publicKey, toPubkey: devnetSolanaKeypair('fee-payer').publicKey, lamports: 100_000_000_000 }),
      SystemProgram.transfer({ fromPubkey: rpc.payer.publicKey, toPubkey: devnetSolanaKeypair('user').publicKey, lamports: 100_000_000_000 }),
    ]);
    mkdirSync(join(dir, 'deployments'), { recursive: true });
    const deploymentFile = join(dir, 'deployments', 'solana.json');
    writeFileSync(deploymentFile, `${JSON.stringify(deployment, null, 2)}\n`);
    timer = setInterval(() => void rpc.advance(1), o.slotMs ?? 400);
    return { chain: { name: 'solana', rpcUrl, deploymentFile, deployment, rpc }, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
