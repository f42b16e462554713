/**
 * Issue #7's first step: prove in solana-bankrun (the real SPL Token and Memo programs)
 * that releases from SPL-multisig custody can be signed asynchronously against durable
 * nonces, and that the SPL program and the runtime refuse what the bridge must never
 * land: a release below the threshold, a release signed against a stale nonce, a
 * re-signed release n after n landed, and a replay of a landed transaction.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Keypair, NONCE_ACCOUNT_LENGTH, NonceAccount, SystemProgram, type PublicKey, Transaction, type TransactionInstruction } from '@solana/web3.js';
import {
  ACCOUNT_SIZE,
  MINT_SIZE,
  MULTISIG_SIZE,
  TOKEN_PROGRAM_ID,
  createInitializeAccountInstruction,
  createInitializeMintInstruction,
  createInitializeMultisigInstruction,
  createMintToInstruction,
  createTransferCheckedInstruction,
} from '@solana/spl-token';
import { createMemoInstruction } from '@solana/spl-memo';
import { start, type BanksClient, type ProgramTestContext } from 'solana-bankrun';

process.env.RUST_LOG ??= 'error';

const DECIMALS = 7;

describe('solana-bankrun: durable-nonce releases from SPL multisig custody', () => {
  let ctx: ProgramTestContext;
  let banks: BanksClient;
  let payer: Keypair;
  const [processor, a1, a2, a3] = [Keypair.generate(), Keypair.generate(), Keypair.generate(), Keypair.generate()];
  const [mint, multisig, custody, nonce, user] = [Keypair.generate(), Keypair.generate(), Keypair.generate(), Keypair.generate(), Keypair.generate()];
  const userAccount = Keypair.generate();

  const send = async (ixs: TransactionInstruction[], signers: Keypair[]) => {
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: ctx.lastBlockhash }).add(...ixs);
    tx.sign(payer, ...signers);
    await banks.processTransaction(tx);
  };
  const nonceValue = async (): Promise<string> => {
    const acc = await banks.getAccount(nonce.publicKey);
    assert.ok(acc);
    return NonceAccount.fromAccountData(Buffer.from(acc.data)).nonce;
  };
  const balance = async (account: PublicKey): Promise<bigint> => {
    const acc = await banks.getAccount(account);
    assert.ok(acc);
    return Buffer.from(acc.data).readBigUInt64LE(64); // SPL token account: mint 32, owner 32, amount u64
  };
  /** Release n: advance the nonce, transfer from custody under the multisig, memo naming the action. */
  const release = (n: number, amount: bigint, nonceBlockhash: string, approvers: Keypair[]) =>
    new Transaction({ feePayer: payer.publicKey, nonceInfo: { nonce: nonceBlockhash, nonceInstruction: SystemProgram.nonceAdvance({ noncePubkey: nonce.publicKey, authorizedPubkey: payer.publicKey }) } }).add(
      createTransferCheckedInstruction(custody.publicKey, mint.publicKey, userAccount.publicKey, multisig.publicKey, amount, DECIMALS, [processor, ...approvers].map((k) => k.publicKey)),
      createMemoInstruction(`klx devnet solana action ${n}`),
    );
  const failure = async (tx: Transaction): Promise<string> => {
    const r = await banks.tryProcessTransaction(tx);
    assert.ok(r.result, 'the transaction must be refused');
    return `${r.result} ${(r.meta?.logMessages ?? []).join(' ')}`;
  };

  before(async () => {
    ctx = await start([], []);
    banks = ctx.banksClient;
    payer = ctx.payer;
    const rent = await banks.getRent();
    const lamports = (size: number) => rent.minimumBalance(BigInt(size));
    await send(
      [
        SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: mint.publicKey, lamports: Number(lamports(MINT_SIZE)), space: MINT_SIZE, programId: TOKEN_PROGRAM_ID }),
        createInitializeMintInstruction(mint.publicKey, DECIMALS, payer.publicKey, null),
        SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: multisig.publicKey, lamports: Number(lamports(MULTISIG_SIZE)), space: MULTISIG_SIZE, programId: TOKEN_PROGRAM_ID }),
        // Processor + 3 approvers, threshold M + 1 = 3 (ADR 0013).
        createInitializeMultisigInstruction(multisig.publicKey, [processor.publicKey, a1.publicKey, a2.publicKey, a3.publicKey], 3),
      ],
      [mint, multisig],
    );
    await send(
      [
        SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: custody.publicKey, lamports: Number(lamports(ACCOUNT_SIZE)), space: ACCOUNT_SIZE, programId: TOKEN_PROGRAM_ID }),
        createInitializeAccountInstruction(custody.publicKey, mint.publicKey, multisig.publicKey),
        SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: userAccount.publicKey, lamports: Number(lamports(ACCOUNT_SIZE)), space: ACCOUNT_SIZE, programId: TOKEN_PROGRAM_ID }),
        createInitializeAccountInstruction(userAccount.publicKey, mint.publicKey, user.publicKey),
        createMintToInstruction(mint.publicKey, custody.publicKey, payer.publicKey, 1_000_000n),
        ...SystemProgram.createNonceAccount({ fromPubkey: payer.publicKey, noncePubkey: nonce.publicKey, authorizedPubkey: payer.publicKey, lamports: Number(lamports(NONCE_ACCOUNT_LENGTH)) }).instructions,
      ],
      [custody, userAccount, nonce],
    );
  });

  it('lands a release whose signers signed at different times, hundreds of slots apart', async () => {
    const tx = release(1, 100n, await nonceValue(), [a1, a2]);
    tx.partialSign(processor);
    ctx.warpToSlot(500n);
    tx.partialSign(a1);
    ctx.warpToSlot(1000n);
    tx.partialSign(a2, payer);
    await banks.processTransaction(tx);
    assert.equal(await balance(userAccount.publicKey), 100n);
    // A replay of the landed bytes is refused: its nonce has advanced.
    assert.match(await failure(tx), /Blockhash not found|AlreadyProcessed|already been processed/i);
    assert.equal(await balance(userAccount.publicKey), 100n);
  });

  it('refuses a release signed below the threshold (the SPL program itself)', async () => {
    const tx = release(2, 50n, await nonceValue(), [a1]);
    tx.sign(payer, processor, a1);
    assert.match(await failure(tx), /MissingRequiredSignature|missing required signature/i);
    assert.equal(await balance(userAccount.publicKey), 100n);
  });

  it('refuses release n + 1 signed against a stale nonce, and release n re-signed after n landed', async () => {
    const stale = await nonceValue();
    const n2 = release(2, 10n, stale, [a1, a2]);
    n2.sign(payer, processor, a1, a2);
    const n3 = release(3, 20n, stale, [a2, a3]); // signed against the same nonce value, before n2 landed
    n3.sign(payer, processor, a2, a3);
    await banks.processTransaction(n2);
    assert.match(await failure(n3), /Blockhash not found/i);
    // Release 2 signed again (other approvers, same nonce value) after it landed: refused.
    const again = release(2, 10n, stale, [a3, a1]);
    again.sign(payer, processor, a3, a1);
    assert.match(await failure(again), /Blockhash not found/i);
    assert.equal(await balance(userAccount.publicKey), 110n);
    // Consecutive nonce transactions need no slot warp: release 3 against the fresh nonce lands.
    const fresh = release(3, 20n, await nonceValue(), [a2, a3]);
    fresh.sign(payer, processor, a2, a3);
    await banks.processTransaction(fresh);
    assert.equal(await balance(userAccount.publicKey), 130n);
  });

  it('an SPL multisig only counts signatures: three approvers without the processor can release (ADR 0013)', async () => {
    const tx = new Transaction({ feePayer: payer.publicKey, nonceInfo: { nonce: await nonceValue(), nonceInstruction: SystemProgram.nonceAdvance({ noncePubkey: nonce.publicKey, authorizedPubkey: payer.publicKey }) } }).add(
      createTransferCheckedInstruction(custody.publicKey, mint.publicKey, userAccount.publicKey, multisig.publicKey, 1n, DECIMALS, [a1, a2, a3].map((k) => k.publicKey)),
    );
    tx.sign(payer, a1, a2, a3);
    await banks.processTransaction(tx);
    assert.equal(await balance(userAccount.publicKey), 131n, 'the gap ADR 0013 records: the hub and listeners must catch this, the program does not');
  });
});
