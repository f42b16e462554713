/**
 * Bodies of the bridge transaction types (docs/hub-encoding.md, "Bridge transactions").
 * Each body is canonical JSON (relayer/ledger/canonical-json.ts) inside the length-
 * prefixed body field: a zod schema fixes its shape, and decoding refuses any spelling
 * that is not canonical, so the bytes a listener signs are the bytes every node hashes.
 */
import { z } from 'zod';
import { MAX_U128, type ByteReader, type ByteWriter } from './bytes.ts';
import { canonicalBytes, parseCanonical, type CanonicalValue } from './canonical-json.ts';
import { TxRejected } from './errors.ts';
import { decodeAddress } from './address.ts';
import { ASSET_ID_PATTERN } from './asset-id.ts';

export const chainName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a chain name');
export const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a non-negative integer as a decimal string');
export const u64 = z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'a u64 as a decimal string');
const hexBytes = z.string().regex(/^0x([0-9a-f]{2}){1,512}$/, 'lowercase 0x-hex bytes');
const chainText = z.string().min(1).max(128);
export const hubAsset = z.string().regex(ASSET_ID_PATTERN, 'an asset id');

export const MAX_ATTESTATIONS_PER_TX = 32;
export const MAX_SIGNATURES_PER_TX = 64;
/** Body bytes a role puts in one transaction, well under the 15 KiB transaction limit. */
export const BODY_BUDGET_BYTES = 12_000;

/** Splits items into consecutive chunks of at most `maxCount` whose canonical JSON fits the body budget. */
export function chunksForTx<T extends object>(items: readonly T[], maxCount: number): T[][] {
  const out: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = canonicalBytes(item as unknown as CanonicalValue).length + 1;
    if (chunk.length > 0 && (chunk.length >= maxCount || bytes + size > BODY_BUDGET_BYTES)) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

export const chainRegisterSchema = z.strictObject({
  chain: chainName,
  family: z.enum(['evm', 'solana', 'cosmos', 'bitcoin', 'tezos']),
  /** The chain's own id (EVM chain id, Solana genesis hash, ...). */
  chainRef: chainText,
  custody: chainText,
  listeners: z.array(z.string()).min(1).max(64),
  listenerQuorum: z.number().int().min(1),
  approvers: z.array(z.string()).min(1).max(64),
  approverQuorum: z.number().int().min(1),
  assets: z
    .array(z.strictObject({ hubAsset, chainAsset: chainText, chainDecimals: z.number().int().min(0).max(77), mode: z.enum(['lock', 'mint']) }))
    .min(1)
    .max(64),
});

const observed = {
  eventId: u64,
  custody: chainText,
  txHash: chainText,
  index: z.number().int().min(0).max(0xffffffff),
  blockHeight: u64,
  blockHash: chainText,
};
export const depositAttestationSchema = z.strictObject({
  kind: z.literal('deposit'),
  ...observed,
  asset: chainText,
  amount: uint,
  recipient: z.string().max(128),
  refundTo: chainText,
});
export const executionAttestationSchema = z.strictObject({
  kind: z.literal('execution'),
  ...observed,
  actionId: u64,
  payloadHash: chainText,
  paid: z.boolean(),
});
export const attestationSchema = z.discriminatedUnion('kind', [depositAttestationSchema, executionAttestationSchema]);
export const attestSchema = z.strictObject({ chain: chainName, items: z.array(attestationSchema).min(1).max(MAX_ATTESTATIONS_PER_TX) });

export const withdrawSchema = z.strictObject({ chain: chainName, asset: hubAsset, amount: uint, recipient: z.string().min(1).max(128) });

/** A share's signature bytes: one signature, or a family's bundle (Solana: one per signer-set variant, ADR 0014). */
const shareSignature = z.string().regex(/^0x([0-9a-f]{2}){1,4096}$/, 'lowercase 0x-hex bytes, at most 4,096');
/** The chain state the action was built against (Solana: the durable nonce value); absent where none. */
const actionContext = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'printable ASCII without spaces, 1 to 128 characters');
const share = z.strictObject({ actionId: u64, payloadHash: chainText, signer: chainText, signature: shareSignature, context: actionContext.optional() });
export const approveSchema = z.strictObject({ chain: chainName, items: z.array(share).min(1).max(MAX_SIGNATURES_PER_TX) });
export const cosignSchema = approveSchema;

export const claimDepositSchema = z.strictObject({ chain: chainName, eventId: u64, to: z.string(), proof: hexBytes });

/** An approver's vote to send a claimable or stray deposit back to its refund address on the chain. */
export const returnDepositSchema = z.strictObject({ chain: chainName, eventId: u64 });

/**
 * Hard override of action n (DESIGN.md section 3): an approver proposes a skip (a signed no-op
 * at id n) or a replacement (same asset, at most the original amount; another recipient only
 * with the owner's consent); approvers confirm; the processor confirms last.
 */
export const overrideProposeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ chain: chainName, actionId: u64, kind: z.literal('skip') }),
  z.strictObject({ chain: chainName, actionId: u64, kind: z.literal('replace'), asset: hubAsset, amount: uint, recipient: z.string().min(1).max(128) }),
]);
export const overrideConfirmSchema = z.strictObject({ chain: chainName, actionId: u64 });
/** The withdrawal owner's consent that a replacement of action n pays `recipient`. */
export const overrideConsentSchema = z.strictObject({ chain: chainName, actionId: u64, recipient: z.string().min(1).max(128) });

/** A listener's reading of free custody at a checkpoint block (DESIGN.md section 5: balance sync). */
export const MAX_CUSTODY_SYNC_ITEMS = 16;
export const custodySyncSchema = z.strictObject({
  chain: chainName,
  items: z
    .array(z.strictObject({ asset: chainText, blockHeight: u64, blockHash: chainText, balance: uint, floor: z.string().regex(/^(0|-?[1-9][0-9]{0,77})$/, 'an integer as a decimal string') }))
    .min(1)
    .max(MAX_CUSTODY_SYNC_ITEMS),
});
/** The owner takes back a withdrawal still waiting in the pending-funds FIFO of (chain, asset). */
export const withdrawCancelSchema = z.strictObject({ chain: chainName, asset: hubAsset, seq: u64 });

export type ChainRegisterBody = z.infer<typeof chainRegisterSchema>;
export type Attestation = z.infer<typeof attestationSchema>;
export type DepositAttestation = z.infer<typeof depositAttestationSchema>;
export type ExecutionAttestation = z.infer<typeof executionAttestationSchema>;
export type AttestBody = z.infer<typeof attestSchema>;
export type WithdrawBody = z.infer<typeof withdrawSchema>;
export type SignatureShareBody = z.infer<typeof share>;
export type ApproveBody = z.infer<typeof approveSchema>;
export type CosignBody = z.infer<typeof cosignSchema>;
export type ClaimDepositBody = z.infer<typeof claimDepositSchema>;
export type ReturnDepositBody = z.infer<typeof returnDepositSchema>;
export type OverrideProposeBody = z.infer<typeof overrideProposeSchema>;
export type OverrideConfirmBody = z.infer<typeof overrideConfirmSchema>;
export type OverrideConsentBody = z.infer<typeof overrideConsentSchema>;
export type CustodySyncBody = z.infer<typeof custodySyncSchema>;
export type WithdrawCancelBody = z.infer<typeof withdrawCancelSchema>;

export interface CheckContext {
  addressPrefix: string;
}

export interface JsonBodyCodec<B> {
  encode(body: B, w: ByteWriter): void;
  decode(r: ByteReader): B;
  fromJson(json: unknown): B;
  toJson(body: B): Record<string, unknown>;
  check(body: B, ctx: CheckContext): void;
}

/** A body codec whose canonical encoding is the body's canonical JSON. */
export function jsonCodec<S extends z.ZodType<Record<string, unknown>>>(
  what: string,
  schema: S,
  check: (b: z.infer<S>, ctx: CheckContext) => void = () => undefined,
): JsonBodyCodec<z.infer<S>> {
  const parse = (json: unknown): z.infer<S> => {
    const p = schema.safeParse(json);
    if (!p.success) {
      const issue = p.error.issues[0];
      throw new TxRejected('TX_MALFORMED', `${what} body: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    return p.data;
  };
  return {
    encode: (b, w) => void w.bytes(canonicalBytes(b as CanonicalValue)),
    decode: (r) => {
      let json: unknown;
      try {
        json = parseCanonical(r.bytes());
      } catch (e) {
        throw new TxRejected('TX_MALFORMED', `${what} body is not canonical JSON: ${(e as Error).message}`);
      }
      return parse(json);
    },
    fromJson: parse,
    toJson: (b) => b,
    check,
  };
}

function uniqueKeyAddresses(list: readonly string[], what: string, prefix: string): void {
  if (new Set(list).size !== list.length) throw new TxRejected('TX_MALFORMED', `${what}: an address appears twice`);
  for (const a of list) decodeAddress(a, prefix);
}

export const BRIDGE_BODY_CODECS = {
  'chain-register': jsonCodec('chain-register', chainRegisterSchema, (b, ctx) => {
    uniqueKeyAddresses(b.listeners, 'listeners', ctx.addressPrefix);
    uniqueKeyAddresses(b.approvers, 'approvers', ctx.addressPrefix);
    // A quorum is a strict majority of its set (DESIGN.md section 1).
    if (2 * b.listenerQuorum <= b.listeners.length || b.listenerQuorum > b.listeners.length) {
      throw new TxRejected('BAD_QUORUM', `listener quorum ${b.listenerQuorum} of ${b.listeners.length} is not a strict majority`);
    }
    if (2 * b.approverQuorum <= b.approvers.length || b.approverQuorum > b.approvers.length) {
      throw new TxRejected('BAD_QUORUM', `approver quorum ${b.approverQuorum} of ${b.approvers.length} is not a strict majority`);
    }
    if (new Set(b.assets.map((a) => a.chainAsset)).size !== b.assets.length) throw new TxRejected('TX_MALFORMED', 'a chain asset appears twice');
    if (new Set(b.assets.map((a) => a.hubAsset)).size !== b.assets.length) throw new TxRejected('TX_MALFORMED', 'a hub asset is mapped twice');
  }),
  attest: jsonCodec('attest', attestSchema, (b) => {
    if (new Set(b.items.map((i) => i.eventId)).size !== b.items.length) throw new TxRejected('TX_MALFORMED', 'an event id appears twice');
  }),
  withdraw: jsonCodec('withdraw', withdrawSchema, (b) => {
    if (BigInt(b.amount) <= 0n) throw new TxRejected('BAD_AMOUNT', 'amount must be greater than zero');
    if (BigInt(b.amount) > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', 'amount exceeds u128');
  }),
  approve: jsonCodec('approve', approveSchema, (b) => {
    if (new Set(b.items.map((i) => i.actionId)).size !== b.items.length) throw new TxRejected('TX_MALFORMED', 'an action id appears twice');
  }),
  cosign: jsonCodec('cosign', cosignSchema, (b) => {
    if (new Set(b.items.map((i) => i.actionId)).size !== b.items.length) throw new TxRejected('TX_MALFORMED', 'an action id appears twice');
  }),
  'claim-deposit': jsonCodec('claim-deposit', claimDepositSchema, (b, ctx) => void decodeAddress(b.to, ctx.addressPrefix)),
  'return-deposit': jsonCodec('return-deposit', returnDepositSchema),
  'override-propose': jsonCodec('override-propose', overrideProposeSchema, (b) => {
    if (b.kind === 'replace' && BigInt(b.amount) <= 0n) throw new TxRejected('BAD_AMOUNT', 'a replacement pays more than zero (skip instead)');
  }),
  'override-confirm': jsonCodec('override-confirm', overrideConfirmSchema),
  'override-consent': jsonCodec('override-consent', overrideConsentSchema),
  'custody-sync': jsonCodec('custody-sync', custodySyncSchema, (b) => {
    if (new Set(b.items.map((i) => `${i.asset}@${i.blockHeight}`)).size !== b.items.length) throw new TxRejected('TX_MALFORMED', 'an asset appears twice at one height');
  }),
  'withdraw-cancel': jsonCodec('withdraw-cancel', withdrawCancelSchema),
};

export interface BridgeTxBodies {
  'chain-register': ChainRegisterBody;
  attest: AttestBody;
  withdraw: WithdrawBody;
  approve: ApproveBody;
  cosign: CosignBody;
  'claim-deposit': ClaimDepositBody;
  'return-deposit': ReturnDepositBody;
  'override-propose': OverrideProposeBody;
  'override-confirm': OverrideConfirmBody;
  'override-consent': OverrideConsentBody;
  'custody-sync': CustodySyncBody;
  'withdraw-cancel': WithdrawCancelBody;
}
