/** The deployment record of a Solana bridge: written by its deployment (adapters/solana/deploy.ts), read by the relayer. */
import { z } from 'zod';
import { readDeploymentFile } from '../deployment-file.ts';

const base58Key = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a base58 public key');

export const solanaDeploymentSchema = z.strictObject({
  family: z.literal('solana'),
  /** What identifies the cluster (its genesis hash, or "bankrun" for the in-repo devnet). */
  cluster: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'a cluster id'),
  multisig: base58Key,
  processor: base58Key,
  approvers: z.array(base58Key).min(1).max(10),
  approverQuorum: z.number().int().positive(),
  nonceAccount: base58Key,
  feePayer: base58Key,
  klxMint: base58Key.nullable(),
  klxDecimals: z.number().int().min(0).max(7),
  /** No bridge account existed before this slot: listeners scan from here. */
  startSlot: z.string().regex(/^[0-9]{1,20}$/),
});

export type SolanaDeployment = z.infer<typeof solanaDeploymentSchema>;

export function readSolanaDeployment(path: string): SolanaDeployment {
  return readDeploymentFile(path, solanaDeploymentSchema, 'Solana');
}
