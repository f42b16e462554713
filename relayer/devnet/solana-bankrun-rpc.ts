/**
 * A small Solana JSON-RPC server over solana-bankrun (the real runtime with the real SPL
 * Token, Associated Token Account and Memo programs), so that the Solana adapter's real
 * @solana/web3.js Connection code path runs in tests and on the devnet. bankrun keeps no
 * transaction history and no owner index, so this server keeps them: every transaction it
 * lands gets its own slot (one block each), with pre/post balances and token balances read
 * around it. It verifies every ed25519 signature itself before bankrun sees the bytes.
 *
 * Served: getSlot, getBlock (signatures/none), getSignaturesForAddress, getTransaction (json,
 * legacy), getAccountInfo (base64), getTokenAccountsByOwner (base64), getSignatureStatuses,
 * sendTransaction (base64), getLatestBlockhash, getMinimumBalanceForRentExemption, getBalance,
 * getGenesisHash, getVersion, getHealth. `finalityLag`: how many slots `finalized` trails `confirmed`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Keypair, PublicKey, Transaction, VersionedTransaction, type Message, type TransactionInstruction } from '@solana/web3.js';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { base58 } from '@scure/base';
import { start, type ProgramTestContext } from 'solana-bankrun';
import { verifyEd25519 } from '../ledger/keys.ts';

process.env.RUST_LOG ??= 'error';

const TOKEN_PROGRAM = TOKEN_PROGRAM_ID.toBase58();

interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string };
}

interface LandedTx {
  signature: string;
  signatures: string[];
  slot: number;
  message: Message;
  err: unknown;
  fee: number;
  preBalances: number[];
  postBalances: number[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  logMessages: string[];
}

interface Block {
  slot: number;
  blockhash: string;
  previousBlockhash: string;
  signatures: string[];
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class SolanaBankrunRpc {
  readonly payer: Keypair;
  private server: http.Server | undefined;
  private readonly blocks = new Map<number, Block>();
  private readonly txs: LandedTx[] = [];
  private readonly bySignature = new Map<string, LandedTx>();
  private readonly knownAccounts = new Set<string>();
  private openSlot: number;
  private readonly genesisHash: string;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ctx: ProgramTestContext,
    private readonly finalityLag: number,
  ) {
    this.payer = ctx.payer;
    this.genesisHash = ctx.lastBlockhash;
    this.openSlot = 2;
    this.ctx.warpToSlot(2n);
    this.blocks.set(2, { slot: 1, blockhash: ctx.lastBlockhash, previousBlockhash: ctx.lastBlockhash, signatures: [] });
  }

  static async start(o: { finalityLag?: number } = {}): Promise<SolanaBankrunRpc> {
    return new SolanaBankrunRpc(await start([], []), o.finalityLag ?? 0);
  }

  /** Serves JSON-RPC on 127.0.0.1 (port 0: any free port); returns the URL. */
  async listen(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The newest produced block (the open slot, where the next transaction lands, is not visible yet). */
  get currentSlot(): number {
    return this.openSlot - 1;
  }

  /** The newest produced block, as a deployment records it (`startSlot`). */
  slot(): Promise<bigint> {
    return Promise.resolve(BigInt(this.currentSlot));
  }

  get finalizedSlot(): number {
    return Math.max(1, this.currentSlot - this.finalityLag);
  }

  /** Produces `n` empty blocks. */
  advance(n: number): Promise<void> {
    return this.serial(() => {
      for (let i = 0; i < n; i++) this.nextSlot([]);
      return Promise.resolve();
    });
  }

  /** Signs (payer first) and lands a transaction built from instructions; returns its signature, or throws with the error. */
  async send(instructions: TransactionInstruction[], signers: Keypair[] = [], payer: Keypair = this.payer): Promise<string> {
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: await this.recentBlockhash() }).add(...instructions);
    tx.sign(payer, ...signers);
    const { signature, err } = await this.submit(new Uint8Array(tx.serialize()));
    if (err) throw new Error(`transaction ${signature} failed: ${JSON.stringify(err)}`);
    return signature;
  }

  async rentFor(size: number): Promise<number> {
    return Number((await this.ctx.banksClient.getRent()).minimumBalance(BigInt(size)));
  }

  /**
   * A blockhash the runtime accepts now. bankrun's own clock keeps registering blockhashes
   * while the process idles, so the hash of the last warp (`ctx.lastBlockhash`) ages out
   * after a few idle seconds ("Blockhash not found"); the bank's newest one does not.
   */
  async recentBlockhash(): Promise<string> {
    return (await this.ctx.banksClient.getLatestBlockhash())?.[0] ?? this.ctx.lastBlockhash;
  }

  async accountData(address: string): Promise<Uint8Array | null> {
    const a = await this.ctx.banksClient.getAccount(new PublicKey(address));
    return a ? a.data : null;
  }

  /** Lands wire bytes in a slot of their own (bankrun accepts one nonce advance per blockhash). */
  submit(wire: Uint8Array): Promise<{ signature: string; err: unknown }> {
    return this.serial(() => this.land(wire));
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private nextSlot(signatures: string[]): void {
    const closing = this.blocks.get(this.openSlot);
    if (closing) closing.signatures.push(...signatures);
    this.openSlot += 1;
    this.ctx.warpToSlot(BigInt(this.openSlot));
    this.blocks.set(this.openSlot, { slot: this.openSlot, blockhash: this.ctx.lastBlockhash, previousBlockhash: closing?.blockhash ?? '', signatures: [] });
  }

  private async land(wire: Uint8Array): Promise<{ signature: string; err: unknown }> {
    let tx: VersionedTransaction;
    try {
      tx = VersionedTransaction.deserialize(wire);
    } catch {
      throw new RpcError(-32602, 'invalid transaction: failed to deserialize');
    }
    if (tx.version !== 'legacy') throw new RpcError(-32602, 'this devnet RPC serves legacy transactions only');
    const message = tx.message as Message;
    const messageBytes = new Uint8Array(message.serialize());
    const signers = message.accountKeys.slice(0, message.header.numRequiredSignatures);
    if (tx.signatures.length !== signers.length) throw new RpcError(-32602, 'invalid transaction: signature count does not match the message');
    tx.signatures.forEach((sig, i) => {
      if (!verifyEd25519((signers[i] as PublicKey).toBytes(), messageBytes, sig)) throw new RpcError(-32003, `Transaction signature verification failure (signer ${i})`);
    });
    const signatures = tx.signatures.map((sig) => base58.encode(sig));
    const signature = signatures[0] ?? '';
    if (this.bySignature.has(signature)) throw new RpcError(-32002, 'Transaction simulation failed: This transaction has already been processed');
    const keys = message.accountKeys.map((k) => k.toBase58());
    const before = await Promise.all(keys.map((k) => this.ctx.banksClient.getAccount(new PublicKey(k))));
    const r = await this.ctx.banksClient.tryProcessTransaction(tx);
    const after = await Promise.all(keys.map((k) => this.ctx.banksClient.getAccount(new PublicKey(k))));
    const lamports = (a: (typeof before)[number] | undefined) => Number(a?.lamports ?? 0n);
    const fee = lamports(before[0]) - lamports(after[0]);
    if (fee <= 0) {
      // Refused before execution (stale blockhash or nonce, replay, ...): nothing was committed.
      throw new RpcError(-32002, `Transaction simulation failed: ${r.result ?? 'not processed'}`);
    }
    for (const k of keys) this.knownAccounts.add(k);
    const landed: LandedTx = {
      signature,
      signatures,
      slot: this.openSlot,
      message,
      err: r.result === null ? null : { InstructionError: r.result },
      fee,
      preBalances: before.map(lamports),
      postBalances: after.map(lamports),
      preTokenBalances: await this.tokenBalances(before),
      postTokenBalances: await this.tokenBalances(after),
      logMessages: r.meta?.logMessages ?? [],
    };
    this.txs.push(landed);
    this.bySignature.set(signature, landed);
    this.nextSlot([signature]);
    return { signature, err: landed.err };
  }

  private async tokenBalances(accounts: ({ owner: PublicKey; data: Uint8Array } | null)[]): Promise<TokenBalance[]> {
    const out: TokenBalance[] = [];
    for (const [i, a] of accounts.entries()) {
      if (!a || a.owner.toBase58() !== TOKEN_PROGRAM || a.data.length !== 165) continue;
      const data = Buffer.from(a.data);
      const mint = new PublicKey(data.subarray(0, 32)).toBase58();
      const mintData = await this.ctx.banksClient.getAccount(new PublicKey(mint));
      const decimals = mintData ? (mintData.data[44] ?? 0) : 0;
      const amount = data.readBigUInt64LE(64).toString();
      out.push({ accountIndex: i, mint, owner: new PublicKey(data.subarray(32, 64)).toBase58(), programId: TOKEN_PROGRAM, uiTokenAmount: { amount, decimals, uiAmount: null, uiAmountString: amount } });
    }
    return out;
  }

  // ---------------------------------------------------------------- JSON-RPC

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: { id?: unknown; method?: string; params?: unknown[] } = {};
    let reply: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      reply = { jsonrpc: '2.0', id: body.id ?? null, result: await this.dispatch(body.method ?? '', body.params ?? []) };
    } catch (e) {
      const code = e instanceof RpcError ? e.code : -32603;
      reply = { jsonrpc: '2.0', id: body.id ?? null, error: { code, message: (e as Error).message } };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply));
  }

  private commitmentSlot(config: unknown): number {
    const c = (config as { commitment?: string } | undefined)?.commitment;
    return c === 'finalized' ? this.finalizedSlot : this.currentSlot;
  }

  private context(): { slot: number; apiVersion: string } {
    return { slot: this.currentSlot, apiVersion: '2.0.0' };
  }

  private async dispatch(method: string, params: unknown[]): Promise<unknown> {
    const [p0, p1] = params;
    switch (method) {
      case 'getHealth':
        return 'ok';
      case 'getGenesisHash':
        return this.genesisHash;
      case 'getVersion':
        return { 'solana-core': '2.0.0-bankrun', 'feature-set': 0 };
      case 'getSlot':
        return this.commitmentSlot(p0);
      case 'getLatestBlockhash':
        return { context: this.context(), value: { blockhash: await this.recentBlockhash(), lastValidBlockHeight: this.openSlot + 150 } };
      case 'getMinimumBalanceForRentExemption':
        return this.rentFor(p0 as number);
      case 'getBalance': {
        const a = await this.ctx.banksClient.getAccount(new PublicKey(p0 as string));
        return { context: this.context(), value: Number(a?.lamports ?? 0n) };
      }
      case 'getBlock':
        return this.getBlock(p0 as number, p1);
      case 'getSignaturesForAddress':
        return this.signaturesFor(p0 as string, (p1 ?? {}));
      case 'getTransaction':
        return this.getTransaction(p0 as string, p1);
      case 'getAccountInfo': {
        const a = await this.ctx.banksClient.getAccount(new PublicKey(p0 as string));
        return { context: this.context(), value: a ? accountJson(a) : null };
      }
      case 'getTokenAccountsByOwner':
        return this.tokenAccountsByOwner(p0 as string, p1 as { programId?: string; mint?: string });
      case 'getSignatureStatuses':
        return {
          context: this.context(),
          value: (p0 as string[]).map((s) => {
            const t = this.bySignature.get(s);
            if (!t) return null;
            const status = t.slot <= this.finalizedSlot ? 'finalized' : 'confirmed';
            return { slot: t.slot, confirmations: status === 'finalized' ? null : this.currentSlot - t.slot, err: t.err, status: t.err ? { Err: t.err } : { Ok: null }, confirmationStatus: status };
          }),
        };
      case 'sendTransaction': {
        const encoding = (p1 as { encoding?: string } | undefined)?.encoding ?? 'base58';
        const wire = encoding === 'base64' ? Buffer.from(p0 as string, 'base64') : base58.decode(p0 as string);
        return (await this.submit(new Uint8Array(wire))).signature;
      }
      default:
        throw new RpcError(-32601, `method not served by the bankrun RPC: ${method}`);
    }
  }

  private getBlock(slot: number, config: unknown): unknown {
    const c = config as { transactionDetails?: string } | undefined;
    if (slot > this.commitmentSlot(config)) throw new RpcError(-32004, `Block not available for slot ${slot}`);
    const b = this.blocks.get(slot);
    if (!b) throw new RpcError(-32009, `Slot ${slot} was skipped, or missing in long-term storage`);
    const base = { blockhash: b.blockhash, previousBlockhash: b.previousBlockhash, parentSlot: Math.max(0, slot - 1), blockHeight: slot, blockTime: null };
    if (c?.transactionDetails === 'signatures') return { ...base, signatures: b.signatures };
    if (c?.transactionDetails === 'none') return base;
    throw new RpcError(-32602, 'only transactionDetails "signatures" or "none" are served');
  }

  private signaturesFor(address: string, o: { before?: string; until?: string; limit?: number; commitment?: string }): unknown[] {
    const maxSlot = this.commitmentSlot(o);
    const limit = Math.min(o.limit ?? 1000, 1000);
    let skipping = o.before !== undefined;
    const out: unknown[] = [];
    for (let i = this.txs.length - 1; i >= 0 && out.length < limit; i--) {
      const t = this.txs[i] as LandedTx;
      if (skipping) {
        if (t.signature === o.before) skipping = false;
        continue;
      }
      if (t.signature === o.until) break;
      if (t.slot > maxSlot || !t.message.accountKeys.some((k) => k.toBase58() === address)) continue;
      out.push({ signature: t.signature, slot: t.slot, err: t.err, memo: null, blockTime: null, confirmationStatus: t.slot <= this.finalizedSlot ? 'finalized' : 'confirmed' });
    }
    return out;
  }

  private getTransaction(signature: string, config: unknown): unknown {
    const t = this.bySignature.get(signature);
    if (!t || t.slot > this.commitmentSlot(config)) return null;
    const m = t.message;
    return {
      slot: t.slot,
      blockTime: null,
      version: 'legacy',
      meta: {
        err: t.err,
        status: t.err ? { Err: t.err } : { Ok: null },
        fee: t.fee,
        preBalances: t.preBalances,
        postBalances: t.postBalances,
        innerInstructions: [],
        logMessages: t.logMessages,
        preTokenBalances: t.preTokenBalances,
        postTokenBalances: t.postTokenBalances,
        rewards: [],
        loadedAddresses: { writable: [], readonly: [] },
      },
      transaction: {
        signatures: t.signatures,
        message: {
          accountKeys: m.accountKeys.map((k) => k.toBase58()),
          header: m.header,
          recentBlockhash: m.recentBlockhash,
          instructions: m.instructions.map((ix) => ({ programIdIndex: ix.programIdIndex, accounts: ix.accounts, data: ix.data, stackHeight: null })),
        },
      },
    };
  }

  private async tokenAccountsByOwner(owner: string, filter: { programId?: string; mint?: string }): Promise<unknown> {
    const value: unknown[] = [];
    for (const k of this.knownAccounts) {
      const a = await this.ctx.banksClient.getAccount(new PublicKey(k));
      if (!a || a.owner.toBase58() !== TOKEN_PROGRAM || a.data.length !== 165) continue;
      const data = Buffer.from(a.data);
      if (new PublicKey(data.subarray(32, 64)).toBase58() !== owner) continue;
      if (filter.mint && new PublicKey(data.subarray(0, 32)).toBase58() !== filter.mint) continue;
      if (filter.programId && filter.programId !== TOKEN_PROGRAM) continue;
      value.push({ pubkey: k, account: accountJson(a) });
    }
    return { context: this.context(), value };
  }
}

function accountJson(a: { lamports: bigint | number; data: Uint8Array; owner: PublicKey; executable: boolean }): unknown {
  return {
    lamports: Number(a.lamports),
    data: [Buffer.from(a.data).toString('base64'), 'base64'],
    owner: a.owner.toBase58(),
    executable: a.executable,
    rentEpoch: 0,
    space: a.data.length,
  };
}
