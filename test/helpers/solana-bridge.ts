/**
 * A Solana bridge on the bankrun JSON-RPC server: an SPL multisig of the processor and
 * approvers (threshold M + 1), custody token accounts, a bridged-KLX mint whose authority is
 * the multisig, a durable nonce account whose authority is the processor, and a funded fee
 * payer. Keys are devnet seeds (hex), as the relayer loads them.
 */
import { Keypair, PublicKey, SystemProgram, type TransactionInstruction } from '@solana/web3.js';
import {
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
  createBurnCheckedInstruction,
  createInitializeMintInstruction,
  createMintToInstruction,
  createTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import { createMemoInstruction } from '@solana/spl-memo';
import { deploySolanaBridge as deployBridgeAccounts } from '../../adapters/solana/deploy.ts';
import { SolanaAdapter, type SolanaAdapterOptions } from '../../adapters/solana/solana-adapter.ts';
import { SolanaBankrunRpc } from '../../relayer/devnet/solana-bankrun-rpc.ts';
import { sha256, toHex } from '../../relayer/ledger/bytes.ts';

export const seedOf = (name: string): string => toHex(sha256(new TextEncoder().encode(`klx-solana-test:${name}`)));
export const keypairOf = (name: string): Keypair => Keypair.fromSeed(Buffer.from(seedOf(name), 'hex'));

/** What the test bridge needs of a Solana chain: the bankrun RPC here, or a real validator (opt-in). */
export interface SolanaTestChain {
  readonly payer: Keypair;
  send(instructions: TransactionInstruction[], signers?: Keypair[], payer?: Keypair): Promise<string>;
  advance(slots: number): Promise<void>;
  accountData(address: string): Promise<Uint8Array | null>;
  rentFor(size: number): Promise<number>;
  slot(): Promise<bigint>;
  close(): Promise<void>;
}

export interface SolanaBridge {
  rpc: SolanaTestChain;
  url: string;
  options: SolanaAdapterOptions;
  adapter(): SolanaAdapter;
  /** The lock-mode test token (6 decimals) and the bridged-KLX mint (7 decimals, mint authority = multisig). */
  lockMint: string;
  klxMint: string;
  /** A mint the bridge is not configured for. */
  strayMint: string;
  seeds: { processor: string; approvers: string[]; outsider: string; payer: string };
  user: Keypair;
  /** Gives `owner` `amount` of a test mint (the mint authority is the test payer). */
  mintTo(mint: string, owner: string, amount: bigint): Promise<void>;
  /** A user transfer into custody's account of `mint`, with an optional memo. */
  deposit(o: { mint: string; amount: bigint; memo?: string; from?: Keypair; decimals?: number; custodyAccount?: string }): Promise<string>;
  /** A user burn of bridged KLX with a memo. */
  burnDeposit(o: { amount: bigint; memo: string; from?: Keypair }): Promise<string>;
  tokenBalance(owner: string, mint: string): Promise<bigint>;
  supply(mint: string): Promise<bigint>;
  close(): Promise<void>;
}

export async function startSolanaBridge(o: { finalityLag?: number; approvers?: number; quorum?: number; network?: string; chain?: string } = {}): Promise<SolanaBridge & { rpc: SolanaBankrunRpc }> {
  const rpc = await SolanaBankrunRpc.start({ finalityLag: o.finalityLag ?? 2 });
  const url = await rpc.listen();
  return { ...(await deploySolanaBridge(rpc, url, o)), rpc };
}

/** Creates the bridge's accounts on `rpc` (reachable at `url`) with deterministic test keys (fresh account keys per call). */
export async function deploySolanaBridge(rpc: SolanaTestChain, url: string, o: { approvers?: number; quorum?: number; network?: string; chain?: string; fresh?: boolean } = {}): Promise<SolanaBridge> {
  const payer = rpc.payer;
  const n = o.approvers ?? 3;
  const quorum = o.quorum ?? 2;
  const processor = keypairOf('processor');
  const approvers = Array.from({ length: n }, (_, i) => keypairOf(`approver-${i}`));
  const feePayer = keypairOf('fee-payer');
  const user = keypairOf('user');
  const accountKey = (name: string) => (o.fresh ? Keypair.generate() : keypairOf(name));
  const [multisig, lockMint, klxMint, strayMint, nonce] = ['multisig', 'lock-mint', 'klx-mint', 'stray-mint', 'nonce'].map(accountKey) as [Keypair, Keypair, Keypair, Keypair, Keypair];
  const deployment = await deployBridgeAccounts(
    rpc,
    {
      cluster: 'test',
      processor: processor.publicKey.toBase58(),
      approvers: approvers.map((a) => a.publicKey.toBase58()),
      approverQuorum: quorum,
      feePayer: feePayer.publicKey.toBase58(),
      klxDecimals: 7,
      keys: { multisig, klxMint, nonce },
    },
  );
  const rent = (size: number) => rpc.rentFor(size);
  const create = async (account: Keypair, size: number, owner: PublicKey) =>
    SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: account.publicKey, lamports: await rent(size), space: size, programId: owner });
  await rpc.send(
    [
      await create(lockMint, MINT_SIZE, TOKEN_PROGRAM_ID),
      createInitializeMintInstruction(lockMint.publicKey, 6, payer.publicKey, null),
      await create(strayMint, MINT_SIZE, TOKEN_PROGRAM_ID),
      createInitializeMintInstruction(strayMint.publicKey, 6, payer.publicKey, null),
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: feePayer.publicKey, lamports: 100_000_000_000 }),
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: user.publicKey, lamports: 10_000_000_000 }),
      createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, getAssociatedTokenAddressSync(lockMint.publicKey, multisig.publicKey, true), multisig.publicKey, lockMint.publicKey),
    ],
    [lockMint, strayMint],
  );

  const options: SolanaAdapterOptions = {
    chain: o.chain ?? 'solana',
    network: o.network ?? 'klx-test',
    rpcUrl: url,
    multisig: deployment.multisig,
    processor: deployment.processor,
    approvers: deployment.approvers,
    approverQuorum: deployment.approverQuorum,
    nonceAccount: deployment.nonceAccount,
    feePayer: deployment.feePayer,
    assets: [
      { mint: lockMint.publicKey.toBase58(), decimals: 6, mode: 'lock' },
      { mint: klxMint.publicKey.toBase58(), decimals: 7, mode: 'mint' },
    ],
    startSlot: BigInt(deployment.startSlot),
  };
  const ata = (owner: string, mint: string) => getAssociatedTokenAddressSync(new PublicKey(mint), new PublicKey(owner), true);
  const decimalsOf = async (mint: string) => (await rpc.accountData(mint))?.[44] ?? 0;
  const bridge: SolanaBridge = {
    rpc,
    url,
    options,
    adapter: () => new SolanaAdapter(options),
    lockMint: options.assets[0]?.mint ?? '',
    klxMint: options.assets[1]?.mint ?? '',
    strayMint: strayMint.publicKey.toBase58(),
    seeds: { processor: seedOf('processor'), approvers: approvers.map((_, i) => seedOf(`approver-${i}`)), outsider: seedOf('outsider'), payer: seedOf('fee-payer') },
    user,
    async mintTo(mint, owner, amount) {
      const account = ata(owner, mint);
      await rpc.send([createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, account, new PublicKey(owner), new PublicKey(mint)), createMintToInstruction(new PublicKey(mint), account, payer.publicKey, amount)]);
    },
    async deposit(d) {
      const from = d.from ?? user;
      const custody = d.custodyAccount ? new PublicKey(d.custodyAccount) : ata(options.multisig, d.mint);
      const ixs: TransactionInstruction[] = [
        createAssociatedTokenAccountIdempotentInstruction(from.publicKey, custody, new PublicKey(options.multisig), new PublicKey(d.mint)),
        createTransferCheckedInstruction(ata(from.publicKey.toBase58(), d.mint), new PublicKey(d.mint), custody, from.publicKey, d.amount, d.decimals ?? (await decimalsOf(d.mint))),
      ];
      if (d.memo !== undefined) ixs.push(createMemoInstruction(d.memo));
      return rpc.send(ixs, [], from);
    },
    async burnDeposit(d) {
      const from = d.from ?? user;
      return rpc.send([createBurnCheckedInstruction(ata(from.publicKey.toBase58(), options.assets[1]?.mint ?? ''), new PublicKey(options.assets[1]?.mint ?? ''), from.publicKey, d.amount, 7), createMemoInstruction(d.memo)], [], from);
    },
    async tokenBalance(owner, mint) {
      const data = await rpc.accountData(ata(owner, mint).toBase58());
      return data && data.length >= 72 ? Buffer.from(data).readBigUInt64LE(64) : 0n;
    },
    async supply(mint) {
      const data = await rpc.accountData(mint);
      return data ? Buffer.from(data).readBigUInt64LE(36) : 0n; // mint: COption<authority> 36, supply u64
    },
    close: () => rpc.close(),
  };
  return bridge;
}
