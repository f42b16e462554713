/**
 * Solana RPC reads the adapter needs, through @solana/web3.js's Connection, with failures
 * classified as retriable (transport, rate limits, a node behind) or not. Transactions are
 * read back as `ChainTx` (top-level instructions with account addresses resolved).
 */
import { Connection, PublicKey, SolanaJSONRPCError, type Finality, type VersionedTransactionResponse } from '@solana/web3.js';
import { ChainRpcError } from '../chain-adapter.ts';
import type { ChainTx } from './solana-codec.ts';

/** JSON-RPC codes a retry can cure: block not available yet, node unhealthy/behind, min context slot not reached. */
const RETRIABLE_CODES = new Set([-32004, -32005, -32014, -32016, -32603, 429, 503]);

export function rpcFailure(chain: string, what: string, err: unknown): ChainRpcError {
  const text = err instanceof Error ? err.message : String(err);
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  if (err instanceof SolanaJSONRPCError) {
    return new ChainRpcError(chain, `${what}: ${short}`, typeof err.code === 'number' && RETRIABLE_CODES.has(err.code));
  }
  const transport = /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket|timeout|429|502|503|504|network/i.test(text);
  return new ChainRpcError(chain, `${what}: ${short}`, transport);
}

export interface TxWithMeta extends ChainTx {
  failed: boolean;
  /** SPL token balances by account address, before and after (base units). */
  tokenDelta: Map<string, bigint>;
}

export interface BlockInfo {
  slot: bigint;
  hash: string;
  signatures: string[];
}

export class SolanaRpc {
  readonly connection: Connection;

  constructor(
    private readonly chain: string,
    rpcUrl: string,
  ) {
    this.connection = new Connection(rpcUrl, { commitment: 'confirmed', disableRetryOnRateLimit: true });
  }

  async call<T>(what: string, f: (c: Connection) => Promise<T>): Promise<T> {
    try {
      return await f(this.connection);
    } catch (e) {
      if (e instanceof ChainRpcError) throw e;
      throw rpcFailure(this.chain, what, e);
    }
  }

  slot(commitment: Finality): Promise<bigint> {
    return this.call('getSlot', async (c) => BigInt(await c.getSlot(commitment)));
  }

  /**
   * The block at `slot` (hash and transaction order), or null where the slot was skipped
   * (-32007, -32009; a node restored from a snapshot or missing long-term storage answers
   * so too: point listeners at a node with full recent history). A block the node cannot
   * serve now is a retriable error, never null.
   */
  async block(slot: bigint, commitment: Finality): Promise<BlockInfo | null> {
    try {
      const b = await this.connection.getBlockSignatures(Number(slot), commitment);
      return { slot, hash: b.blockhash, signatures: b.signatures };
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (/fetch failed|ECONN/i.test(text)) throw rpcFailure(this.chain, `getBlock ${slot}`, e);
      // Skipped: the chain holds no block at this slot.
      if (/skipped|-32007|-32009/i.test(text)) return null;
      // Not available: above what this node has at this commitment, or a block it lacks now (a
      // node behind, or behind a load balancer). No answer, never an empty slot: callers ask
      // for slots they saw final, and an empty slot is one listener-clear-halt steps over.
      if (/not found|not available|-32004/i.test(text)) throw new ChainRpcError(this.chain, `getBlock ${slot}: the node cannot serve a block at this slot now (${commitment})`, true);
      throw rpcFailure(this.chain, `getBlock ${slot}`, e);
    }
  }

  /** Successful and failed signatures touching `address` with after < slot ≤ upTo, oldest first. */
  async signatures(address: string, after: bigint, upTo: bigint, commitment: Finality): Promise<{ signature: string; slot: bigint; failed: boolean }[]> {
    const out: { signature: string; slot: bigint; failed: boolean }[] = [];
    for await (const s of this.history(address, commitment, 1000)) {
      if (s.slot <= after) break;
      if (s.slot <= upTo) out.push(s);
    }
    return out.reverse();
  }

  /** Signatures touching `address`, newest first, page by page (stop iterating to stop reading). */
  async *history(address: string, commitment: Finality, pageSize = 100): AsyncGenerator<{ signature: string; slot: bigint; failed: boolean }> {
    let before: string | undefined;
    for (;;) {
      const page = await this.call('getSignaturesForAddress', (c) => c.getSignaturesForAddress(new PublicKey(address), { before, limit: pageSize }, commitment));
      for (const s of page) yield { signature: s.signature, slot: BigInt(s.slot), failed: s.err !== null };
      const last = page[page.length - 1];
      if (!last || page.length < pageSize) return;
      before = last.signature;
    }
  }

  async transaction(signature: string, commitment: Finality): Promise<TxWithMeta | null> {
    const r = await this.call('getTransaction', (c) => c.getTransaction(signature, { commitment, maxSupportedTransactionVersion: 0 }));
    return r ? decodeResponse(signature, r) : null;
  }

  async tokenBalance(account: string): Promise<{ amount: bigint; slot: bigint }> {
    const info = await this.call('getAccountInfo', (c) => c.getAccountInfoAndContext(new PublicKey(account), 'confirmed'));
    const slot = BigInt(info.context.slot);
    // An SPL token account: mint 32, owner 32, amount u64 LE.
    if (!info.value || info.value.data.length < 72) return { amount: 0n, slot };
    return { amount: info.value.data.readBigUInt64LE(64), slot };
  }

  /** Token accounts owned by `owner` under the token program: address → mint. */
  async tokenAccountsOf(owner: string, programId: PublicKey, commitment: Finality): Promise<Map<string, string>> {
    const r = await this.call('getTokenAccountsByOwner', (c) => c.getTokenAccountsByOwner(new PublicKey(owner), { programId }, commitment));
    const out = new Map<string, string>();
    for (const a of r.value) if (a.account.data.length >= 32) out.set(a.pubkey.toBase58(), new PublicKey(a.account.data.subarray(0, 32)).toBase58());
    return out;
  }
}

function decodeResponse(signature: string, r: VersionedTransactionResponse): TxWithMeta {
  const message = r.transaction.message;
  const keys = message.getAccountKeys({ accountKeysFromLookups: r.meta?.loadedAddresses ?? null });
  const key = (i: number) => keys.get(i)?.toBase58() ?? '';
  const tokenDelta = new Map<string, bigint>();
  for (const b of r.meta?.preTokenBalances ?? []) tokenDelta.set(key(b.accountIndex), -BigInt(b.uiTokenAmount.amount));
  for (const b of r.meta?.postTokenBalances ?? []) tokenDelta.set(key(b.accountIndex), (tokenDelta.get(key(b.accountIndex)) ?? 0n) + BigInt(b.uiTokenAmount.amount));
  return {
    signature,
    slot: BigInt(r.slot),
    accountKeys: Array.from({ length: keys.length }, (_, i) => key(i)),
    recentBlockhash: message.recentBlockhash,
    instructions: message.compiledInstructions.map((ix) => ({ program: key(ix.programIdIndex), accounts: ix.accountKeyIndexes.map(key), data: ix.data })),
    failed: r.meta?.err !== null && r.meta?.err !== undefined,
    tokenDelta,
  };
}
