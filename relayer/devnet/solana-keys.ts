/** Devnet Solana keys, derived from public labels (hex ed25519 seeds). Never for anything of value. */
import { Keypair } from '@solana/web3.js';
import { sha256, toHex } from '../ledger/bytes.ts';

export const devnetSolanaSeed = (label: string): string => toHex(sha256(new TextEncoder().encode(`klx-devnet-solana-key:${label}`)));
export const devnetSolanaKeypair = (label: string): Keypair => Keypair.fromSeed(Buffer.from(devnetSolanaSeed(label), 'hex'));
/** Labels: "processor", "approver-<i>", "fee-payer" (the submitter), "user" (the demo's Solana wallet), and the bridge accounts. */
export const DEVNET_SOLANA_APPROVERS = [0, 1, 2].map((i) => `approver-${i}`);
