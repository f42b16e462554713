/**
 * The ChainAdapter of Solana (ADR 0013, ADR 0014): custody in SPL token accounts owned by an
 * SPL multisig of the processor and the approvers (threshold M + 1), deposits as SPL
 * transfers into custody accounts with a Memo (burns with a Memo for the bridged-KLX mint),
 * releases as durable-nonce transactions carrying the memo "klx action <network> <chain> <n>".
 *
 * Solana has no bridge counter: deposits are hub-numbered in (slot, transaction index,
 * instruction index) order over finalized blocks, and action n + 1 is built against the nonce
 * value release n leaves, so it can only be signed once n executed. Chain asset ids are mint
 * addresses. All reads go through @solana/web3.js's Connection.
 */
import { NonceAccount, PublicKey } from '@solana/web3.js';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { ConfigError, KlxError } from '../../relayer/ledger/errors.ts';
import { Ed25519Signer, verifyEd25519 } from '../../relayer/ledger/keys.ts';
import { MAX_U64, fromHex } from '../../relayer/ledger/bytes.ts';
import {
  ChainRpcError, NotExecutableYet,
  type BlockRef, type ChainAdapter, type ChainAssetSpec, type ChainEvent, type ChainSigner, type ExecutionObservation, type HubAction,
  type SignatureShare, type SignedAction, type SigningRequest, type SubmissionRecord, type SubmissionState, type UnsignedAction,
} from '../chain-adapter.ts';
import { chainToHubUnits, hubToChainUnits } from '../chain-amounts.ts';
import {
  INSTRUCTIONS_PER_TX, accountKey, actionOfPayload, advancesNonce, approverSubsets, custodyAccount, decodeBundle, decodeRequest, encodeBundle,
  encodeRequest, executedAction, keyBytes, memoText, parseDepositMemo, payloadHashOf, releaseMemoId, requiredSigners, signatureText, solanaActionOf,
  tokenMove, unsignedOfAction, variantMessage, walletAddress, wireTransaction, type AssetSetup, type SolanaAction, type SolanaBridgeSetup,
} from './solana-codec.ts';
import { SolanaRpc, rpcFailure, type BlockInfo, type TxWithMeta } from './solana-rpc.ts';

export interface SolanaAdapterOptions {
  chain: string;
  network: string;
  rpcUrl: string;
  multisig: string;
  processor: string;
  approvers: string[];
  approverQuorum: number;
  nonceAccount: string;
  feePayer: string;
  assets: AssetSetup[];
  /** No bridge account existed before this slot: scans start after it. */
  startSlot: bigint;
}

const U64 = { max: MAX_U64, name: 'u64' };
/** Variants an approver set may have: each approver signs every M-subset it belongs to (ADR 0014). */
const MAX_VARIANTS = 256;

interface Variant {
  index: number;
  approvers: string[];
  message: Uint8Array;
  signers: string[];
}

export class SolanaAdapter implements ChainAdapter {
  readonly family = 'solana' as const;
  readonly chain: string;
  readonly custody: string;
  readonly signsAfterPreviousExecuted = true;
  readonly maxActionsPerSubmission = 1;
  private readonly setup: SolanaBridgeSetup;
  private readonly rpc: SolanaRpc;
  private readonly startSlot: bigint;
  private readonly subsets: number[][];
  private readonly variantCache = new Map<string, Variant[]>();
  private readonly blocks = new Map<bigint, BlockInfo>();

  constructor(o: SolanaAdapterOptions) {
    if (!o.chain) throw new ConfigError('a Solana adapter needs a chain name');
    const key = (field: string, text: string, wallet = false) => {
      try {
        return wallet ? walletAddress(o.chain, text) : accountKey(o.chain, text);
      } catch (e) {
        throw new ConfigError(`${o.chain} ${field}: ${(e as Error).message}`);
      }
    };
    const approvers = o.approvers.map((a, i) => key(`approvers[${i}]`, a, true));
    if (!Number.isInteger(o.approverQuorum) || o.approverQuorum < 1 || o.approverQuorum > approvers.length) {
      throw new ConfigError(`${o.chain}: approver quorum ${o.approverQuorum} is not reachable with ${approvers.length} approvers`);
    }
    if (approvers.length + 1 > 11) throw new ConfigError(`${o.chain}: an SPL multisig has at most 11 signers (processor + ${approvers.length} approvers)`);
    this.subsets = approverSubsets(approvers.length, o.approverQuorum);
    if (this.subsets.length > MAX_VARIANTS) throw new ConfigError(`${o.chain}: ${this.subsets.length} approver subsets to sign; at most ${MAX_VARIANTS} are supported (ADR 0014)`);
    const assets = new Map<string, AssetSetup>();
    for (const a of o.assets) {
      const mint = key('asset mint', a.mint);
      if (!Number.isInteger(a.decimals) || a.decimals < 0 || a.decimals > 19) throw new ConfigError(`${o.chain}: mint ${mint} decimals must be 0 to 19`);
      assets.set(mint, { mint, decimals: a.decimals, mode: a.mode });
    }
    this.chain = o.chain;
    this.setup = {
      chain: o.chain,
      network: o.network,
      multisig: key('multisig', o.multisig),
      processor: key('processor', o.processor, true),
      approvers,
      approverQuorum: o.approverQuorum,
      nonceAccount: key('nonceAccount', o.nonceAccount),
      feePayer: key('feePayer', o.feePayer, true),
      assets,
    };
    this.custody = this.setup.multisig;
    this.startSlot = o.startSlot;
    this.rpc = new SolanaRpc(o.chain, o.rpcUrl);
  }

  // ---------------------------------------------------------------- addresses and amounts

  validateAddress(text: string): string {
    return walletAddress(this.chain, text);
  }

  toChainAmount(asset: ChainAssetSpec, hubAmount: bigint): bigint {
    return hubToChainUnits(this.chain, U64, asset, hubAmount);
  }

  toHubAmount(asset: ChainAssetSpec, chainAmount: bigint): bigint {
    return chainToHubUnits(this.chain, U64, asset, chainAmount);
  }

  // ---------------------------------------------------------------- observing

  async probe(): Promise<void> {
    // Address history first: a node without transaction history refuses it for good (-32011), while its getBlock answers "not available", a retriable error.
    try {
      await this.rpc.call('getSignaturesForAddress', (c) => c.getSignaturesForAddress(new PublicKey(this.custody), { limit: 1 }, 'finalized'));
    } catch (e) {
      if ((e as ChainRpcError).retriable) throw e;
      throw new ChainRpcError(this.chain, `the RPC refuses the custody's address history, which scans need (a node with transaction history): ${(e as Error).message}`, false);
    }
    const slot = await this.rpc.slot('finalized');
    // A finalized slot is a produced block: a node that calls it skipped keeps no block history.
    if (!(await this.rpc.block(slot, 'finalized'))) {
      throw new ChainRpcError(this.chain, `the RPC serves no block at its own finalized slot ${slot}: listeners need a node with transaction history`, false);
    }
  }

  async head(): Promise<{ latest: BlockRef; final: BlockRef }> {
    const final = await this.blockRefAt(await this.rpc.slot('finalized'), 'finalized');
    const latest = await this.blockRefAt(await this.rpc.slot('confirmed'), 'confirmed');
    return { latest: latest.height >= final.height ? latest : final, final };
  }

  async scan(after: BlockRef | null, upTo: BlockRef): Promise<ChainEvent[]> {
    const at = await this.rpc.block(upTo.height, 'finalized');
    if (!at || at.hash !== upTo.hash) throw new ChainRpcError(this.chain, `slot ${upTo.height} is not the final block ${upTo.hash}`, true);
    // Finalized blocks are rooted: one node shows one history of them, and a changed scan start means a reorganisation beyond finality.
    if (after) {
      const start = await this.rpc.block(after.height, 'finalized');
      if (!start || start.hash !== after.hash) {
        throw new ChainRpcError(this.chain, `the chain reorganised below the scan start, where events were already reported (the listener must stop): slot ${after.height} is no longer ${after.hash}`, false);
      }
    }
    const from = after?.height ?? this.startSlot - 1n;
    const sources = await this.sources('finalized');
    const found = new Map<string, bigint>();
    for (const address of sources.watched) {
      for (const s of await this.rpc.signatures(address, from, upTo.height, 'finalized')) if (!s.failed) found.set(s.signature, s.slot);
    }
    const events: ChainEvent[] = [];
    for (const [signature] of [...found].sort((x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0))) {
      const tx = await this.rpc.transaction(signature, 'finalized');
      if (tx && !tx.failed) events.push(...(await this.eventsOf(tx, sources.custodyMints, 'finalized')));
    }
    return events.sort((x, y) => (x.block.height !== y.block.height ? (x.block.height < y.block.height ? -1 : 1) : x.index - y.index));
  }

  async eventsOfTx(txHash: string): Promise<ChainEvent[]> {
    const tx = await this.rpc.transaction(txHash, 'confirmed');
    if (!tx || tx.failed) return [];
    return this.eventsOf(tx, (await this.sources('confirmed')).custodyMints, 'confirmed');
  }

  async checkReorg(attested: readonly BlockRef[]): Promise<BlockRef | null> {
    for (const ref of attested) {
      const b = await this.rpc.block(ref.height, 'confirmed');
      if (!b || b.hash !== ref.hash) return ref;
    }
    return null;
  }

  async blockAt(height: bigint): Promise<BlockRef | null> {
    const b = await this.rpc.block(height, 'finalized');
    return b ? { height, hash: b.hash } : null;
  }

  /** Custody balances at a slot: the current balance less what moved in later transactions (nothing is ever claimable on Solana). */
  async custodyBalances(at: BlockRef, assets: readonly string[]): Promise<Map<string, bigint>> {
    const { custodyMints } = await this.sources('confirmed');
    const out = new Map<string, bigint>();
    for (const asset of assets) {
      let total = 0n;
      const accounts = [...custodyMints].filter(([, mint]) => mint === asset).map(([account]) => account);
      for (const account of accounts) {
        const now = await this.rpc.tokenBalance(account);
        let amount = now.amount;
        for (const s of await this.rpc.signatures(account, at.height, now.slot, 'confirmed')) {
          if (s.failed) continue;
          const tx = await this.rpc.transaction(s.signature, 'confirmed');
          amount -= tx?.tokenDelta.get(account) ?? 0n;
        }
        total += amount;
      }
      out.set(asset, total);
    }
    return out;
  }

  // ---------------------------------------------------------------- withdrawals

  async actionContext(actionId: bigint): Promise<string> {
    const next = await this.nextId('finalized');
    if (next !== actionId) throw new NotExecutableYet(this.chain, actionId, `the chain's next final action is ${next}`);
    const info = await this.rpc.call('getAccountInfo', (c) => c.getAccountInfo(new PublicKey(this.setup.nonceAccount), 'finalized'));
    if (!info) throw new ConfigError(`${this.chain}: nonce account ${this.setup.nonceAccount} does not exist`);
    const nonce = NonceAccount.fromAccountData(info.data);
    if (nonce.authorizedPubkey.toBase58() !== this.setup.processor) throw new ConfigError(`${this.chain}: the nonce account's authority is not the processor`);
    return nonce.nonce;
  }

  buildAction(h: HubAction): UnsignedAction {
    return unsignedOfAction(this.setup, solanaActionOf(this.setup, h));
  }

  signingRequests(unsigned: UnsignedAction, collected: readonly SignatureShare[]): SigningRequest[] {
    const variants = this.variants(actionOfPayload(this.setup, unsigned));
    const { processor, approvers } = this.validShares(variants, collected);
    if (approvers.size < this.setup.approverQuorum) return [{ role: 'approver', round: 0, bytes: encodeRequest(variants) }];
    if (processor !== null) return [];
    const chosen = variants.find((v) => v.approvers.every((a) => approvers.get(a)?.has(v.index)));
    return chosen ? [{ role: 'processor', round: 0, bytes: encodeRequest([chosen]) }] : [{ role: 'approver', round: 0, bytes: encodeRequest(variants) }];
  }

  verifyShare(unsigned: UnsignedAction, share: SignatureShare): boolean {
    try {
      return this.shareVariants(this.variants(actionOfPayload(this.setup, unsigned)), share) !== null;
    } catch {
      return false;
    }
  }

  signer(secret: string): ChainSigner {
    const key = Ed25519Signer.fromSeed(parseSeed(secret));
    const address = signatureText(key.publicKey);
    return {
      address,
      sign(request: SigningRequest): Uint8Array {
        if (request.round !== 0) throw new KlxError('BAD_SIGNING_REQUEST', `Solana actions are signed in round 0 only (asked: round ${request.round})`, false);
        const entries = decodeRequest(request.bytes).filter((v) => requiredSigners(v.message).includes(address));
        return encodeBundle(entries.map((v) => ({ variant: v.index, signature: key.sign(v.message) })));
      },
    };
  }

  assemble(unsigned: UnsignedAction, shares: readonly SignatureShare[]): SignedAction {
    const action = actionOfPayload(this.setup, unsigned);
    const variants = this.variants(action);
    const { processor, approvers } = this.validShares(variants, shares);
    for (const v of variants) {
      const p = processor?.get(v.index);
      if (!p || !v.approvers.every((a) => approvers.get(a)?.has(v.index))) continue;
      const signatures: Record<string, string> = { [this.setup.processor]: signatureText(p) };
      for (const a of v.approvers) signatures[a] = signatureText(approvers.get(a)?.get(v.index) as Uint8Array);
      return { chain: this.chain, actionId: unsigned.actionId, payloadHash: unsigned.payloadHash, payload: { action, variant: v.index, signatures } };
    }
    throw new KlxError('INCOMPLETE_SIGNATURES', `${this.chain}: action ${unsigned.actionId} lacks the processor's and ${this.setup.approverQuorum} approvers' signatures of one variant`, false);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so that refusals reject rather than throw
  async prepareSubmission(actions: readonly SignedAction[], payerSecret: string): Promise<SubmissionRecord> {
    if (actions.length !== 1) throw this.badSubmission(`a Solana submission lands exactly one action (got ${actions.length})`);
    const { message, signatures } = this.checkedSigned(actions[0] as SignedAction);
    const payer = Ed25519Signer.fromSeed(parseSeed(payerSecret));
    if (signatureText(payer.publicKey) !== this.setup.feePayer) throw this.badSubmission('the payer key is not the configured fee payer');
    const ordered = requiredSigners(message).map((k) => (k === this.setup.feePayer ? payer.sign(message) : (signatures.get(k) as Uint8Array)));
    const wire = wireTransaction(ordered, message);
    return { txHash: signatureText(ordered[0] as Uint8Array), nonce: null, raw: Buffer.from(wire).toString('base64') };
  }

  async broadcast(record: SubmissionRecord): Promise<void> {
    const bytes = Buffer.from(record.raw, 'base64');
    if (bytes.length < 65 || signatureText(bytes.subarray(1, 65)) !== record.txHash) throw this.badSubmission('the raw transaction does not carry the recorded signature');
    try {
      await this.rpc.connection.sendRawTransaction(bytes, { skipPreflight: true, maxRetries: 0 });
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (/already been processed|AlreadyProcessed/i.test(text)) return;
      if (/Blockhash not found|BlockhashNotFound/i.test(text)) throw new ChainRpcError(this.chain, 'the durable nonce moved on: this release can never land', false);
      throw rpcFailure(this.chain, 'sendTransaction', e);
    }
  }

  async submissionState(record: SubmissionRecord): Promise<SubmissionState> {
    const r = await this.rpc.call('getSignatureStatuses', (c) => c.getSignatureStatuses([record.txHash], { searchTransactionHistory: true }));
    const s = r.value[0];
    if (!s) return 'unknown';
    if (s.err) return 'reverted';
    return s.confirmationStatus === 'processed' ? 'pending' : 'included';
  }

  payerNonce(): Promise<bigint | null> {
    return Promise.resolve(null);
  }

  nextExecutableId(): Promise<bigint> {
    return this.nextId('confirmed');
  }

  async findExecution(actionId: bigint): Promise<ExecutionObservation | null> {
    const found = await this.releases('confirmed', (id) => id <= actionId);
    if (!found || found.release.actionId !== actionId) return null;
    return this.executionOf(found.tx, found.release, 'confirmed');
  }

  // ---------------------------------------------------------------- internals

  private badSubmission(reason: string): KlxError {
    return new KlxError('BAD_SUBMISSION', `${this.chain}: ${reason}`, false, { chain: this.chain });
  }

  private async blockRefAt(slot: bigint, commitment: 'confirmed' | 'finalized'): Promise<BlockRef> {
    // A skipped slot has no block: step back to the newest slot that has one.
    for (let s = slot; s >= 0n && s > slot - 64n; s--) {
      const b = await this.rpc.block(s, commitment);
      if (b) return { height: s, hash: b.hash };
    }
    throw new ChainRpcError(this.chain, `no block found at or below slot ${slot}`, true);
  }

  private async blockOf(slot: bigint, commitment: 'confirmed' | 'finalized'): Promise<BlockInfo> {
    const cached = this.blocks.get(slot);
    if (cached) return cached;
    const b = await this.rpc.block(slot, commitment);
    if (!b) throw new ChainRpcError(this.chain, `slot ${slot} has no block`, true);
    if (commitment === 'finalized') {
      if (this.blocks.size > 4096) this.blocks.clear();
      this.blocks.set(slot, b);
    }
    return b;
  }

  /** Custody token accounts (address → mint) and every address whose history holds bridge events. */
  private async sources(commitment: 'confirmed' | 'finalized'): Promise<{ custodyMints: Map<string, string>; watched: string[] }> {
    const custodyMints = await this.rpc.tokenAccountsOf(this.setup.multisig, TOKEN_PROGRAM_ID, commitment);
    for (const a of this.setup.assets.values()) if (a.mode === 'lock') custodyMints.set(custodyAccount(this.setup, a.mint), a.mint);
    const mintModes = [...this.setup.assets.values()].filter((a) => a.mode === 'mint').map((a) => a.mint);
    return { custodyMints, watched: [...new Set([...custodyMints.keys(), ...mintModes, this.setup.nonceAccount])] };
  }

  /** Bridge events of one successful transaction: a release's execution, or its deposits. */
  private async eventsOf(tx: TxWithMeta, custodyMints: Map<string, string>, commitment: 'confirmed' | 'finalized'): Promise<ChainEvent[]> {
    const release = this.releaseOf(tx);
    if (release) return [await this.executionOf(tx, release, commitment)];
    const memos = tx.instructions.map(memoText).filter((m): m is string => m !== null);
    const memo = memos.length === 1 ? (memos[0] as string) : null;
    const out: ChainEvent[] = [];
    let block: BlockInfo | undefined;
    for (const [i, ix] of tx.instructions.entries()) {
      const move = tokenMove(ix);
      if (!move) continue;
      let deposit: { asset: string; amount: bigint; sender: string } | null = null;
      if (move.type === 'transfer' && custodyMints.has(move.destination)) {
        const mint = custodyMints.get(move.destination) as string;
        // Bridged tokens parked in a custody account are neither burnt nor a deposit (ADR 0014).
        if (this.setup.assets.get(mint)?.mode !== 'mint') deposit = { asset: mint, amount: move.amount, sender: move.authority };
      } else if (move.type === 'burn' && this.setup.assets.get(move.mint)?.mode === 'mint') {
        deposit = { asset: move.mint, amount: move.amount, sender: move.authority };
      }
      if (!deposit) continue;
      block ??= await this.blockOf(tx.slot, commitment);
      const { hubRecipient, refundTo } = parseDepositMemo(this.chain, memo, deposit.sender);
      out.push({
        kind: 'deposit', chain: this.chain, custody: this.custody, txHash: tx.signature, index: this.positionOf(block, tx, i),
        block: { height: tx.slot, hash: block.hash }, eventId: null, asset: deposit.asset, amount: deposit.amount, hubRecipient, refundTo,
      });
    }
    return out;
  }

  /** A release of this bridge: it advances the nonce account and carries a release memo (its id and position). */
  private releaseOf(tx: TxWithMeta): { actionId: bigint; memoIndex: number } | null {
    if (!advancesNonce(tx, this.setup.nonceAccount)) return null;
    for (const [memoIndex, ix] of tx.instructions.entries()) {
      const actionId = releaseMemoId(this.setup, memoText(ix));
      if (actionId !== null) return { actionId, memoIndex };
    }
    return null;
  }

  private async executionOf(tx: TxWithMeta, { actionId, memoIndex }: { actionId: bigint; memoIndex: number }, commitment: 'confirmed' | 'finalized'): Promise<ExecutionObservation> {
    const block = await this.blockOf(tx.slot, commitment);
    return {
      kind: 'execution', chain: this.chain, custody: this.custody, txHash: tx.signature, index: this.positionOf(block, tx, memoIndex),
      block: { height: tx.slot, hash: block.hash }, eventId: null, actionId, payloadHash: payloadHashOf(this.setup, executedAction(this.setup, tx, actionId)), paid: true,
    };
  }

  /** (transaction index in the block, instruction index) as one number, ascending in chain order. */
  private positionOf(block: BlockInfo, tx: TxWithMeta, instruction: number): number {
    const txIndex = block.signatures.indexOf(tx.signature);
    if (txIndex < 0) throw new ChainRpcError(this.chain, `transaction ${tx.signature} is not in block ${block.slot}`, true);
    return txIndex * INSTRUCTIONS_PER_TX + instruction;
  }

  /** The newest successful release on the nonce account that `accept`s its id (null: none). */
  private async releases(commitment: 'confirmed' | 'finalized', accept: (id: bigint) => boolean): Promise<{ release: { actionId: bigint; memoIndex: number }; tx: TxWithMeta } | null> {
    for await (const s of this.rpc.history(this.setup.nonceAccount, commitment)) {
      if (s.failed) continue;
      const tx = await this.rpc.transaction(s.signature, commitment);
      const release = tx && !tx.failed ? this.releaseOf(tx) : null;
      if (tx && release && accept(release.actionId)) return { release, tx };
    }
    return null;
  }

  private async nextId(commitment: 'confirmed' | 'finalized'): Promise<bigint> {
    const last = await this.releases(commitment, () => true);
    return last ? last.release.actionId + 1n : 1n;
  }

  private variants(a: SolanaAction): Variant[] {
    const key = payloadHashOf(this.setup, a);
    let v = this.variantCache.get(key);
    if (!v) {
      v = this.subsets.map((subset, index) => {
        const message = variantMessage(this.setup, a, subset);
        return { index, approvers: subset.map((i) => this.setup.approvers[i] as string), message, signers: requiredSigners(message) };
      });
      if (this.variantCache.size > 256) this.variantCache.clear();
      this.variantCache.set(key, v);
    }
    return v;
  }

  /** The variants a share validly signs (variant → signature), or null if any entry is invalid. */
  private shareVariants(variants: readonly Variant[], share: SignatureShare): Map<number, Uint8Array> | null {
    const entries = decodeBundle(share.signature);
    if (!entries || share.round !== 0) return null;
    const member = share.role === 'processor' ? share.signer === this.setup.processor : this.setup.approvers.includes(share.signer);
    if (!member) return null;
    const out = new Map<number, Uint8Array>();
    for (const e of entries) {
      const v = variants[e.variant];
      if (!v || out.has(e.variant)) return null;
      if (share.role === 'approver' && !v.approvers.includes(share.signer)) return null;
      if (!verifyEd25519(keyBytes(share.signer), v.message, e.signature)) return null;
      out.set(e.variant, e.signature);
    }
    return out;
  }

  private validShares(variants: readonly Variant[], shares: readonly SignatureShare[]): { processor: Map<number, Uint8Array> | null; approvers: Map<string, Map<number, Uint8Array>> } {
    let processor: Map<number, Uint8Array> | null = null;
    const approvers = new Map<string, Map<number, Uint8Array>>();
    for (const s of shares) {
      const valid = this.shareVariants(variants, s);
      if (!valid) continue;
      if (s.role === 'processor') {
        processor = valid;
        continue;
      }
      // Every signature here verified: an approver's are pooled over all shares in its name, so a
      // partial copy of its bundle (sent by another approver, say) cannot hide its full one.
      const pooled = approvers.get(s.signer) ?? new Map<number, Uint8Array>();
      for (const [variant, signature] of valid) if (!pooled.has(variant)) pooled.set(variant, signature);
      approvers.set(s.signer, pooled);
    }
    return { processor, approvers };
  }

  /** A signed action's message (one of the action's variants) and the signatures it carries, all checked. */
  private checkedSigned(s: SignedAction): { message: Uint8Array; signatures: Map<string, Uint8Array> } {
    const p = s.payload as { action?: unknown; variant?: unknown; signatures?: unknown } | null;
    const action = actionOfPayload(this.setup, { chain: s.chain, actionId: s.actionId, payloadHash: s.payloadHash, payload: p?.action });
    const v = this.variants(action)[typeof p?.variant === 'number' ? p.variant : -1];
    if (!v || typeof p?.signatures !== 'object' || p.signatures === null) throw this.badSubmission(`action ${s.actionId} is not a signed action of this chain`);
    const signatures = new Map<string, Uint8Array>();
    for (const k of v.signers) {
      if (k === this.setup.feePayer) continue;
      const text = (p.signatures as Record<string, unknown>)[k];
      const sig = typeof text === 'string' ? keyBytesOrNull(text) : null;
      if (!sig || !verifyEd25519(keyBytes(k), v.message, sig)) throw new KlxError('INCOMPLETE_SIGNATURES', `${this.chain}: action ${s.actionId} lacks a valid signature by ${k}`, false);
      signatures.set(k, sig);
    }
    return { message: v.message, signatures };
  }
}

function keyBytesOrNull(text: string): Uint8Array | null {
  try {
    const b = keyBytes(text);
    return b.length === 64 ? b : null;
  } catch {
    return null;
  }
}

function parseSeed(secret: string): Uint8Array {
  const hex = typeof secret === 'string' ? secret.trim().replace(/^0x/i, '') : '';
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new KlxError('BAD_KEY', 'a Solana key is a 32-byte ed25519 seed in hex', false);
  return fromHex(hex, 32);
}
