/**
 * Creating a Solana bridge (ADR 0013) and its deployment record: the SPL multisig of the
 * processor and the approvers (threshold M + 1, the custody authority), the bridged-KLX
 * mint whose mint authority is that multisig, and the durable nonce account of releases
 * whose authority is the processor. Custody token accounts are the multisig's associated
 * token accounts; the ones named in `custodyMints` (e.g. wrapped SOL) are created here, any
 * other is created idempotently by the first deposit of its mint. The record is what the
 * relayer's config names (`solanaChains[].deploymentFile`). Rent is paid by `target.payer`.
 */
import {
  Connection, Keypair, NONCE_ACCOUNT_LENGTH, PublicKey, SystemProgram, Transaction, type TransactionInstruction,
} from '@solana/web3.js';
import {
  MINT_SIZE, MULTISIG_SIZE, TOKEN_PROGRAM_ID, createAssociatedTokenAccountIdempotentInstruction, createInitializeMintInstruction,
  createInitializeMultisigInstruction, getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import { ConfigError } from '../../relayer/ledger/errors.ts';
import { accountKey, walletAddress } from './solana-codec.ts';
import type { SolanaDeployment } from './deployment.ts';

/** Where a deployment's transactions go: a cluster through Connection, or the in-process bankrun server. */
export interface SolanaDeployTarget {
  readonly payer: Keypair;
  send(instructions: TransactionInstruction[], signers?: Keypair[]): Promise<string>;
  rentFor(size: number): Promise<number>;
  /** The cluster's current slot. */
  slot(): Promise<bigint>;
}

export interface SolanaDeployOptions {
  cluster: string;
  processor: string;
  approvers: readonly string[];
  approverQuorum: number;
  feePayer: string;
  /** Decimals of the bridged-KLX mint (at most 7: 480e9 KLX must fit in a u64); null: no bridged KLX. */
  klxDecimals: number | null;
  /** Mints whose custody account is created now (e.g. the native mint, for wrapped SOL). */
  custodyMints?: readonly string[];
  /** Account keypairs to use (deterministic devnets); fresh ones otherwise. */
  keys?: { multisig?: Keypair; klxMint?: Keypair; nonce?: Keypair };
}

export async function deploySolanaBridge(target: SolanaDeployTarget, o: SolanaDeployOptions): Promise<SolanaDeployment> {
  const chain = 'solana deployment';
  const checked = (field: string, text: string, check: typeof walletAddress) => {
    try {
      return new PublicKey(check(chain, text));
    } catch (e) {
      throw new ConfigError(`${chain}: ${field}: ${(e as Error).message}`);
    }
  };
  const processor = checked('processor', o.processor, walletAddress);
  const approvers = o.approvers.map((a, i) => checked(`approvers[${i}]`, a, walletAddress));
  checked('feePayer', o.feePayer, walletAddress);
  if (!Number.isInteger(o.approverQuorum) || o.approverQuorum < 1 || 2 * o.approverQuorum <= approvers.length || o.approverQuorum > approvers.length) {
    throw new ConfigError(`${chain}: approver quorum ${o.approverQuorum} of ${approvers.length} is not a strict majority`);
  }
  if (approvers.length + 1 > 11) throw new ConfigError(`${chain}: an SPL multisig has at most 11 signers (processor + ${approvers.length} approvers)`);
  if (o.klxDecimals !== null && (!Number.isInteger(o.klxDecimals) || o.klxDecimals < 0 || o.klxDecimals > 7)) {
    throw new ConfigError(`${chain}: bridged KLX decimals must be 0 to 7 (480e9 KLX must fit in a u64)`);
  }
  const custodyMints = (o.custodyMints ?? []).map((m, i) => checked(`custodyMints[${i}]`, m, accountKey));
  const startSlot = await target.slot();
  const payer = target.payer.publicKey;
  const multisig = o.keys?.multisig ?? Keypair.generate();
  const klxMint = o.klxDecimals === null ? null : (o.keys?.klxMint ?? Keypair.generate());
  const nonce = o.keys?.nonce ?? Keypair.generate();
  const create = async (account: Keypair, size: number) =>
    SystemProgram.createAccount({ fromPubkey: payer, newAccountPubkey: account.publicKey, lamports: await target.rentFor(size), space: size, programId: TOKEN_PROGRAM_ID });

  await target.send(
    [
      await create(multisig, MULTISIG_SIZE),
      createInitializeMultisigInstruction(multisig.publicKey, [processor, ...approvers], o.approverQuorum + 1),
      ...(klxMint && o.klxDecimals !== null
        ? [await create(klxMint, MINT_SIZE), createInitializeMintInstruction(klxMint.publicKey, o.klxDecimals, multisig.publicKey, null)]
        : []),
    ],
    klxMint ? [multisig, klxMint] : [multisig],
  );
  await target.send(
    [
      ...SystemProgram.createNonceAccount({ fromPubkey: payer, noncePubkey: nonce.publicKey, authorizedPubkey: processor, lamports: await target.rentFor(NONCE_ACCOUNT_LENGTH) }).instructions,
      ...custodyMints.map((mint) => createAssociatedTokenAccountIdempotentInstruction(payer, getAssociatedTokenAddressSync(mint, multisig.publicKey, true), multisig.publicKey, mint)),
    ],
    [nonce],
  );
  return {
    family: 'solana',
    cluster: o.cluster,
    multisig: multisig.publicKey.toBase58(),
    processor: processor.toBase58(),
    approvers: approvers.map((a) => a.toBase58()),
    approverQuorum: o.approverQuorum,
    nonceAccount: nonce.publicKey.toBase58(),
    feePayer: o.feePayer,
    klxMint: klxMint?.publicKey.toBase58() ?? null,
    klxDecimals: o.klxDecimals ?? 0,
    startSlot: startSlot.toString(),
  };
}

/**
 * Sends a transaction (fee payer = `signers[0]`) and polls its status until it is confirmed;
 * throws with the transaction's error if it failed. Polling, not a websocket subscription:
 * it works against any JSON-RPC endpoint.
 */
export async function sendConfirmed(connection: Connection, instructions: TransactionInstruction[], signers: [Keypair, ...Keypair[]], timeoutMs = 60_000): Promise<string> {
  let signature = '';
  for (let attempt = 1; ; attempt++) {
    const { blockhash } = await connection.getLatestBlockhash('confirmed');
    const tx = new Transaction({ feePayer: signers[0].publicKey, recentBlockhash: blockhash }).add(...instructions);
    tx.sign(...signers);
    try {
      signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true, maxRetries: 0 });
      break;
    } catch (e) {
      // A node that does not know the blockhash yet refused the transaction before processing it:
      // nothing can land from it, so a new transaction with a fresh blockhash is safe.
      if (attempt >= 3 || !/Blockhash not found/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const status = (await connection.getSignatureStatuses([signature])).value[0];
    if (status?.err) throw new Error(`transaction ${signature} failed: ${JSON.stringify(status.err)}`);
    if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') return signature;
  }
  throw new Error(`transaction ${signature} was not confirmed within ${timeoutMs / 1000} s`);
}

/** A deployment target over a real cluster's RPC (each transaction confirmed before the next). */
export function connectionDeployTarget(rpcUrl: string, payer: Keypair): SolanaDeployTarget {
  const connection = new Connection(rpcUrl, 'confirmed');
  return {
    payer,
    send: (instructions, signers = []) => sendConfirmed(connection, instructions, [payer, ...signers]),
    rentFor: (size) => connection.getMinimumBalanceForRentExemption(size),
    slot: async () => BigInt(await connection.getSlot('confirmed')),
  };
}
