/**
 * What a Solana user does with the bridge, over a cluster's JSON-RPC (the devnet's bankrun
 * server or a validator): deposit an SPL token into the custody account with a memo naming
 * the hub recipient, wrap SOL first for a SOL deposit, burn bridged KLX with a memo, and read
 * token balances. Used by `npm run demo` and the process-level tests; a wallet app would build
 * the same instructions (docs/solana.md).
 */
import { Connection, PublicKey, SystemProgram, type Keypair, type TransactionInstruction } from '@solana/web3.js';
import {
  NATIVE_MINT, createAssociatedTokenAccountIdempotentInstruction, createBurnCheckedInstruction, createSyncNativeInstruction,
  createTransferCheckedInstruction, getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import { createMemoInstruction } from '@solana/spl-memo';
import { sendConfirmed } from '../../adapters/solana/deploy.ts';

const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

export class SolanaWallet {
  readonly connection: Connection;

  constructor(
    rpcUrl: string,
    readonly key: Keypair,
  ) {
    this.connection = new Connection(rpcUrl, 'confirmed');
  }

  get address(): string {
    return this.key.publicKey.toBase58();
  }

  /** Sends and waits until the cluster reports the transaction confirmed; throws with its error if it failed. */
  send(instructions: TransactionInstruction[]): Promise<string> {
    return sendConfirmed(this.connection, instructions, [this.key]);
  }

  /** An SPL transfer into the multisig's custody account of `mint`, with the memo `<hub recipient>[ refund=<wallet>]`. */
  deposit(o: { multisig: string; mint: string; decimals: number; amount: bigint; memo?: string }): Promise<string> {
    const [owner, mint, multisig] = [this.key.publicKey, new PublicKey(o.mint), new PublicKey(o.multisig)];
    const custody = ata(multisig, mint);
    return this.send([
      ...(mint.equals(NATIVE_MINT) ? this.wrapInstructions(o.amount) : []),
      createAssociatedTokenAccountIdempotentInstruction(owner, custody, multisig, mint),
      createTransferCheckedInstruction(ata(owner, mint), mint, custody, owner, o.amount, o.decimals),
      ...(o.memo === undefined ? [] : [createMemoInstruction(o.memo)]),
    ]);
  }

  /** A burn of bridged KLX with the memo naming the hub recipient: the deposit of a mint-mode asset. */
  burnDeposit(o: { mint: string; decimals: number; amount: bigint; memo: string }): Promise<string> {
    const mint = new PublicKey(o.mint);
    return this.send([createBurnCheckedInstruction(ata(this.key.publicKey, mint), mint, this.key.publicKey, o.amount, o.decimals), createMemoInstruction(o.memo)]);
  }

  /** The balance of `owner`'s associated token account of `mint` (0 when it does not exist). */
  async tokenBalance(mint: string, owner: string = this.address): Promise<bigint> {
    const info = await this.connection.getAccountInfo(ata(new PublicKey(owner), new PublicKey(mint)), 'confirmed');
    return info && info.data.length >= 72 ? Buffer.from(info.data).readBigUInt64LE(64) : 0n;
  }

  /** A mint's supply. */
  async supply(mint: string): Promise<bigint> {
    const info = await this.connection.getAccountInfo(new PublicKey(mint), 'confirmed');
    return info ? Buffer.from(info.data).readBigUInt64LE(36) : 0n;
  }

  /** Wraps `lamports` into the wallet's wrapped-SOL account (created when needed). */
  private wrapInstructions(lamports: bigint): TransactionInstruction[] {
    const owner = this.key.publicKey;
    const account = ata(owner, NATIVE_MINT);
    return [
      createAssociatedTokenAccountIdempotentInstruction(owner, account, owner, NATIVE_MINT),
      SystemProgram.transfer({ fromPubkey: owner, toPubkey: account, lamports }),
      createSyncNativeInstruction(account),
    ];
  }
}
