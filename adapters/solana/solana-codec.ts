/**
 * Pure Solana parts of the adapter: addresses, the release transaction of action n in each
 * signer-set variant, signature bundles, and decoding of deposits and releases from a
 * transaction's top-level instructions. No RPC here (ADR 0013, ADR 0014).
 *
 * Release n is one legacy transaction: [AdvanceNonce(nonce account, authority = processor),
 * CreateAssociatedTokenAccountIdempotent(payer → recipient's account) and TransferChecked out
 * of custody / MintToChecked (authority: the SPL multisig, signers: processor + M approvers),
 * Memo "klx action <network> <chain> <n>"], fee payer = the submitter's account, recent
 * blockhash = the durable nonce value. Which M approvers sign is part of the message, so
 * every M-subset of the approvers is a variant; all variants use the same nonce value, so at
 * most one of them can ever land.
 */
import { Message, PublicKey, SystemProgram, Transaction, type TransactionInstruction } from '@solana/web3.js';
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
  createMintToCheckedInstruction,
  createTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import { createMemoInstruction } from '@solana/spl-memo';
import { base58 } from '@scure/base';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { MAX_U64, sha256, toHex } from '../../relayer/ledger/bytes.ts';
import { solanaAddressProblem } from '../../relayer/ledger/chain-families.ts';
import { BadChainAddress, UnrepresentableAmount, type HubAction, type UnsignedAction } from '../chain-adapter.ts';

export const MEMO_PROGRAMS = new Set(['MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr', 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo']);
export const TOKEN_PROGRAM = TOKEN_PROGRAM_ID.toBase58();
const ATA_PROGRAM = ASSOCIATED_TOKEN_PROGRAM_ID.toBase58();
const SYSTEM_PROGRAM = SystemProgram.programId.toBase58();
/** Largest top-level instruction index we number (a Solana transaction carries far fewer). */
export const INSTRUCTIONS_PER_TX = 1024;

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/** A configured account (custody, mint, nonce account, ...): any canonical 32-byte key. */
export function accountKey(chain: string, text: string): string {
  const problem = solanaAddressProblem(text);
  if (problem) throw new BadChainAddress(chain, `${typeof text === 'string' ? quote(text) : typeof text}: ${problem}`);
  return text;
}

/**
 * A wallet (owner) address the bridge pays or refunds: canonical base58 of 32 bytes on the
 * ed25519 curve. Program-derived addresses (associated token accounts among them) are off
 * the curve and refused: the bridge derives the recipient's token account itself.
 */
export function walletAddress(chain: string, text: string): string {
  accountKey(chain, text);
  if (!PublicKey.isOnCurve(new PublicKey(text).toBytes())) {
    throw new BadChainAddress(chain, `${quote(text)} is off the ed25519 curve (a program-derived or token account): name the wallet that owns it`);
  }
  return text;
}

export interface AssetSetup {
  mint: string;
  decimals: number;
  mode: 'lock' | 'mint';
}

/** Everything the adapter knows of the bridge's accounts on one Solana chain. */
export interface SolanaBridgeSetup {
  chain: string;
  /** The hub network name, written in every release memo. */
  network: string;
  /** The SPL multisig (custody authority and bridged-KLX mint authority): the hub's `custody`. */
  multisig: string;
  processor: string;
  /** In registration order: variants come out in a deterministic order. */
  approvers: readonly string[];
  approverQuorum: number;
  /** Durable nonce account of releases; its authority is the processor. */
  nonceAccount: string;
  /** The submitter's fee payer: it also pays rent for recipients' new token accounts. */
  feePayer: string;
  assets: ReadonlyMap<string, AssetSetup>;
}

export const custodyAccount = (s: SolanaBridgeSetup, mint: string): string => getAssociatedTokenAddressSync(new PublicKey(mint), new PublicKey(s.multisig), true).toBase58();
export const releaseMemo = (s: SolanaBridgeSetup, actionId: bigint): string => `klx action ${s.network} ${s.chain} ${actionId}`;

/** Every M-subset of the approvers, as index lists in lexicographic order. */
export function approverSubsets(n: number, m: number): number[][] {
  const out: number[][] = [];
  const pick = (start: number, acc: number[]) => {
    if (acc.length === m) return void out.push([...acc]);
    for (let i = start; i <= n - (m - acc.length); i++) pick(i + 1, [...acc, i]);
  };
  pick(0, []);
  return out;
}

/** The abstract release every honest party derives; `payloadHash` commits to it. */
export interface SolanaAction {
  actionId: string;
  kind: HubAction['kind'];
  mint: string;
  recipient: string;
  amount: string;
  /** The durable nonce value (base58) the release is built against. */
  nonce: string;
}

export function payloadHashOf(s: SolanaBridgeSetup, a: SolanaAction): string {
  const fields = ['klx-solana-action-v1', s.network, s.chain, s.multisig, s.nonceAccount, s.feePayer, a.actionId, a.kind, a.mint, a.recipient, a.amount, a.nonce];
  return `0x${toHex(sha256(new TextEncoder().encode(fields.join('\n'))))}`;
}

export function badAction(chain: string, reason: string): KlxError {
  return new KlxError('BAD_ACTION', `${chain}: ${reason}`, false, { chain });
}

/** Checks a hub action against the setup and turns it into the abstract release. */
export function solanaActionOf(s: SolanaBridgeSetup, h: HubAction): SolanaAction {
  if (typeof h.actionId !== 'bigint' || h.actionId < 1n || h.actionId > MAX_U64) throw badAction(s.chain, 'action ids are 1 to 2^64 − 1');
  const nonce = h.context ?? '';
  if (solanaAddressProblem(nonce) !== null) throw badAction(s.chain, 'a Solana action is built against a durable nonce value (its context)');
  if (h.kind === 'noop') return { actionId: h.actionId.toString(), kind: 'noop', mint: '', recipient: '', amount: '0', nonce };
  if (h.kind !== 'release' && h.kind !== 'mint') throw badAction(s.chain, `unknown action kind ${JSON.stringify(h.kind)}`);
  const asset = s.assets.get(h.asset);
  if (!asset) throw badAction(s.chain, `mint ${quote(String(h.asset))} is not configured`);
  if ((asset.mode === 'mint') !== (h.kind === 'mint')) throw badAction(s.chain, `a ${h.kind} of a ${asset.mode}-mode mint`);
  const recipient = walletAddress(s.chain, h.recipient);
  if (recipient === s.multisig) throw new BadChainAddress(s.chain, 'the custody multisig cannot be a withdrawal recipient');
  if (typeof h.amount !== 'bigint' || h.amount <= 0n || h.amount > MAX_U64) throw new UnrepresentableAmount(s.chain, `a ${h.kind} needs an amount from 1 to 2^64 − 1 base units`);
  return { actionId: h.actionId.toString(), kind: h.kind, mint: asset.mint, recipient, amount: h.amount.toString(), nonce };
}

export function unsignedOfAction(s: SolanaBridgeSetup, a: SolanaAction): UnsignedAction {
  return { chain: s.chain, actionId: BigInt(a.actionId), payloadHash: payloadHashOf(s, a), context: a.nonce, payload: { ...a } };
}

/** The payload of an UnsignedAction/SignedAction, checked against its envelope. */
export function actionOfPayload(s: SolanaBridgeSetup, u: { chain: string; actionId: bigint; payloadHash: string; payload: unknown }): SolanaAction {
  const p = u.payload as Partial<Record<keyof SolanaAction, unknown>> | null;
  const text = (k: keyof SolanaAction) => (p && typeof p[k] === 'string' ? (p[k]) : '');
  if (u.chain !== s.chain) throw badAction(s.chain, `the action is for chain ${u.chain}`);
  const kind = text('kind');
  if (kind !== 'noop' && kind !== 'release' && kind !== 'mint') throw badAction(s.chain, 'the payload has no valid kind');
  const amount = /^[0-9]{1,20}$/.test(text('amount')) ? BigInt(text('amount')) : -1n;
  const rebuilt = solanaActionOf(s, { actionId: u.actionId, kind, asset: text('mint'), recipient: text('recipient'), amount, context: text('nonce') });
  if (rebuilt.actionId !== text('actionId') || payloadHashOf(s, rebuilt) !== u.payloadHash) throw badAction(s.chain, 'the payload hash does not match the payload');
  return rebuilt;
}

function instructionsOf(s: SolanaBridgeSetup, a: SolanaAction, signers: PublicKey[]): TransactionInstruction[] {
  // A no-op moves nothing, but the same signers consent to consuming id n: they sign its memo.
  if (a.kind === 'noop') return [createMemoInstruction(releaseMemo(s, BigInt(a.actionId)), signers)];
  const memo = createMemoInstruction(releaseMemo(s, BigInt(a.actionId)));
  const mint = new PublicKey(a.mint);
  const owner = new PublicKey(a.recipient);
  const payer = new PublicKey(s.feePayer);
  const multisig = new PublicKey(s.multisig);
  const decimals = s.assets.get(a.mint)?.decimals ?? 0;
  const destination = getAssociatedTokenAddressSync(mint, owner);
  const create = createAssociatedTokenAccountIdempotentInstruction(payer, destination, owner, mint);
  const move =
    a.kind === 'mint'
      ? createMintToCheckedInstruction(mint, destination, multisig, BigInt(a.amount), decimals, signers)
      : createTransferCheckedInstruction(new PublicKey(custodyAccount(s, a.mint)), mint, destination, multisig, BigInt(a.amount), decimals, signers);
  return [create, move, memo];
}

/** The message bytes of variant `v` (processor + the approvers of subset v). */
export function variantMessage(s: SolanaBridgeSetup, a: SolanaAction, subset: readonly number[]): Uint8Array {
  const processor = new PublicKey(s.processor);
  const signers = [processor, ...subset.map((i) => new PublicKey(s.approvers[i] as string))];
  const tx = new Transaction({
    feePayer: new PublicKey(s.feePayer),
    nonceInfo: { nonce: a.nonce, nonceInstruction: SystemProgram.nonceAdvance({ noncePubkey: new PublicKey(s.nonceAccount), authorizedPubkey: processor }) },
  });
  tx.add(...instructionsOf(s, a, signers));
  return new Uint8Array(tx.compileMessage().serialize());
}

/** Required signers of a message, in its signature order. */
export function requiredSigners(message: Uint8Array): string[] {
  const m = Message.from(Buffer.from(message));
  return m.accountKeys.slice(0, m.header.numRequiredSignatures).map((k) => k.toBase58());
}

// ---------------------------------------------------------------- signature bundles

/** One entry of a share: a signature over variant `variant`'s message. */
export interface BundleEntry {
  variant: number;
  signature: Uint8Array;
}

/** Signing request bytes: [u16 count] then per variant [u16 index][u16 length][message]. */
export function encodeRequest(variants: readonly { index: number; message: Uint8Array }[]): Uint8Array {
  const parts: Buffer[] = [u16(variants.length)];
  for (const v of variants) parts.push(u16(v.index), u16(v.message.length), Buffer.from(v.message));
  return new Uint8Array(Buffer.concat(parts));
}

export function decodeRequest(bytes: Uint8Array): { index: number; message: Uint8Array }[] {
  const b = Buffer.from(bytes);
  const bad = () => new KlxError('BAD_SIGNING_REQUEST', 'not a Solana signing request', false);
  if (b.length < 2) throw bad();
  const count = b.readUInt16BE(0);
  const out: { index: number; message: Uint8Array }[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (at + 4 > b.length) throw bad();
    const index = b.readUInt16BE(at);
    const len = b.readUInt16BE(at + 2);
    if (at + 4 + len > b.length) throw bad();
    out.push({ index, message: new Uint8Array(b.subarray(at + 4, at + 4 + len)) });
    at += 4 + len;
  }
  if (at !== b.length) throw bad();
  return out;
}

/** Share bytes: per entry [u16 variant][64-byte ed25519 signature]. */
export function encodeBundle(entries: readonly BundleEntry[]): Uint8Array {
  return new Uint8Array(Buffer.concat(entries.flatMap((e) => [u16(e.variant), Buffer.from(e.signature)])));
}

export function decodeBundle(bytes: Uint8Array): BundleEntry[] | null {
  if (bytes.length === 0 || bytes.length % 66 !== 0) return null;
  const out: BundleEntry[] = [];
  for (let at = 0; at < bytes.length; at += 66) {
    out.push({ variant: (bytes[at] as number) * 256 + (bytes[at + 1] as number), signature: bytes.slice(at + 2, at + 66) });
  }
  return out;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** The wire form of a legacy transaction: compact-u16 signature count, signatures, message. */
export function wireTransaction(signatures: readonly Uint8Array[], message: Uint8Array): Uint8Array {
  const n = signatures.length;
  const count = n < 0x80 ? [n] : [(n & 0x7f) | 0x80, n >> 7];
  return new Uint8Array(Buffer.concat([Buffer.from(count), ...signatures.map((s) => Buffer.from(s)), Buffer.from(message)]));
}

// ---------------------------------------------------------------- decoding transactions

export interface DecodedInstruction {
  program: string;
  accounts: string[];
  data: Uint8Array;
}

/** A transaction as the adapter reads it back from the chain (JSON encoding, legacy message). */
export interface ChainTx {
  signature: string;
  slot: bigint;
  accountKeys: string[];
  recentBlockhash: string;
  instructions: DecodedInstruction[];
}

const u64At = (d: Uint8Array, at: number): bigint | null => (d.length >= at + 8 ? Buffer.from(d).readBigUInt64LE(at) : null);

export type TokenMove =
  | { type: 'transfer'; source: string; destination: string; authority: string; mint: string | null; amount: bigint }
  | { type: 'burn'; account: string; mint: string; authority: string; amount: bigint }
  | { type: 'mintTo'; mint: string; destination: string; amount: bigint };

/** The SPL Token instructions the bridge reads (Transfer, TransferChecked, Burn, BurnChecked, MintToChecked). */
export function tokenMove(ix: DecodedInstruction): TokenMove | null {
  if (ix.program !== TOKEN_PROGRAM) return null;
  const [tag] = ix.data;
  const acc = (i: number) => ix.accounts[i] ?? '';
  const amount = u64At(ix.data, 1);
  if (amount === null) return null;
  switch (tag) {
    case 3: // Transfer: source, destination, authority
      return { type: 'transfer', source: acc(0), destination: acc(1), authority: acc(2), mint: null, amount };
    case 12: // TransferChecked: source, mint, destination, authority
      return { type: 'transfer', source: acc(0), destination: acc(2), authority: acc(3), mint: acc(1), amount };
    case 8: // Burn: account, mint, authority
    case 15: // BurnChecked
      return { type: 'burn', account: acc(0), mint: acc(1), authority: acc(2), amount };
    case 14: // MintToChecked: mint, destination, authority
      return { type: 'mintTo', mint: acc(0), destination: acc(1), amount };
    default:
      return null;
  }
}

export function memoText(ix: DecodedInstruction): string | null {
  if (!MEMO_PROGRAMS.has(ix.program)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(ix.data);
  } catch {
    return null;
  }
}

/** The deposit memo: "<hub recipient>" or "<hub recipient> refund=<wallet>"; a malformed refund falls back to the sender. */
export function parseDepositMemo(chain: string, memo: string | null, sender: string): { hubRecipient: string; refundTo: string } {
  if (memo === null) return { hubRecipient: '', refundTo: sender };
  const m = /^(\S+)(?: refund=(\S+))?$/.exec(memo.trim());
  if (!m) return { hubRecipient: memo.trim().slice(0, 128), refundTo: sender };
  let refundTo = sender;
  if (m[2]) {
    try {
      refundTo = walletAddress(chain, m[2]);
    } catch {
      refundTo = sender;
    }
  }
  return { hubRecipient: (m[1] as string).slice(0, 128), refundTo };
}

/** Whether the first instruction advances `nonceAccount` (a release of this bridge starts so). */
export function advancesNonce(tx: ChainTx, nonceAccount: string): boolean {
  const first = tx.instructions[0];
  return first !== undefined && first.program === SYSTEM_PROGRAM && first.data.length >= 4 && Buffer.from(first.data).readUInt32LE(0) === 4 && first.accounts[0] === nonceAccount;
}

/** The release memo's action id, if `text` is this chain's release memo. */
export function releaseMemoId(s: SolanaBridgeSetup, text: string | null): bigint | null {
  const prefix = `klx action ${s.network} ${s.chain} `;
  if (text === null || !text.startsWith(prefix)) return null;
  const id = text.slice(prefix.length);
  return /^[1-9][0-9]{0,19}$/.test(id) && BigInt(id) <= MAX_U64 ? BigInt(id) : null;
}

/**
 * Reads back the abstract action a landed release executed (so its payload hash can be
 * compared with the hub's): the memo's id, the nonce value it used, what it moved and to
 * whom. An unrecognisable movement yields a kind the hub will see as a mismatch.
 */
export function executedAction(s: SolanaBridgeSetup, tx: ChainTx, actionId: bigint): SolanaAction {
  let kind: SolanaAction['kind'] = 'noop';
  let mint = '';
  let recipient = '';
  let amount = 0n;
  for (const ix of tx.instructions) {
    if (ix.program === ATA_PROGRAM && ix.accounts.length >= 4) recipient = ix.accounts[2] as string;
    const move = tokenMove(ix);
    if (move?.type === 'transfer' && move.authority === s.multisig) [kind, mint, amount] = ['release', move.mint ?? '', move.amount];
    if (move?.type === 'mintTo') [kind, mint, amount] = ['mint', move.mint, move.amount];
  }
  if (kind === 'noop') recipient = '';
  return { actionId: actionId.toString(), kind, mint, recipient, amount: amount.toString(), nonce: tx.recentBlockhash };
}

export const signatureText = (sig: Uint8Array): string => base58.encode(sig);
export const keyBytes = (address: string): Uint8Array => base58.decode(address);
