/**
 * Transaction bodies: one codec per transaction type (canonical bytes both ways, JSON
 * both ways, static checks). Later rules versions add types here; an old type's
 * encoding never changes, so old blocks keep verifying.
 */
import { z } from 'zod';
import { ByteReader, ByteWriter, fromHex, toHex } from './bytes.ts';
import { TxRejected } from './errors.ts';
import { decodeAddress } from './address.ts';
import { parseAmount } from './amount.ts';

import { ASSET_ID_PATTERN } from './asset-id.ts';
import { BRIDGE_BODY_CODECS, type BridgeTxBodies } from './bridge-bodies.ts';
import { XFER_BODY_CODECS, type XferTxBodies } from './xfer-bodies.ts';

export { ASSET_ID_PATTERN };
export const MAX_MEMO_BYTES = 256;
export const MAX_DECIMALS = 36;

export interface AssetSpec {
  id: string;
  decimals: number;
}
export interface Allocation {
  address: string;
  asset: string;
  amount: bigint;
}
export interface GenesisBody {
  /** The channel's block producer (processor) public key. */
  producer: Uint8Array;
  addressPrefix: string;
  assets: AssetSpec[];
  allocations: Allocation[];
}
export interface TransferBody {
  to: string;
  asset: string;
  amount: bigint;
  memo: string;
}

export interface TxBodies extends BridgeTxBodies, XferTxBodies {
  genesis: GenesisBody;
  transfer: TransferBody;
}
export type TxType = keyof TxBodies;

interface CheckContext {
  addressPrefix: string;
}

interface BodyCodec<B> {
  encode(body: B, w: ByteWriter): void;
  decode(r: ByteReader): B;
  fromJson(json: unknown): B;
  toJson(body: B): Record<string, unknown>;
  /** Static checks (addresses, sizes); state checks live in the rules. */
  check(body: B, ctx: CheckContext): void;
}

function malformed(what: string, err: z.ZodError): TxRejected {
  const issue = err.issues[0];
  return new TxRejected('TX_MALFORMED', `${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
}

function checkAssetId(id: string): void {
  if (!ASSET_ID_PATTERN.test(id)) throw new TxRejected('TX_MALFORMED', `asset id "${id.slice(0, 70)}" is not valid`);
}

const transferJson = z.strictObject({
  to: z.string(),
  asset: z.string(),
  amount: z.unknown(),
  memo: z.string().optional(),
});

const transferCodec: BodyCodec<TransferBody> = {
  encode(b, w) {
    w.str(b.to).str(b.asset).u128(b.amount).str(b.memo);
  },
  decode(r) {
    return { to: r.str(), asset: r.str(), amount: r.u128(), memo: r.str() };
  },
  fromJson(json) {
    const p = transferJson.safeParse(json);
    if (!p.success) throw malformed('transfer body', p.error);
    return { to: p.data.to, asset: p.data.asset, amount: parseAmount(p.data.amount), memo: p.data.memo ?? '' };
  },
  toJson(b) {
    return { to: b.to, asset: b.asset, amount: b.amount.toString(), memo: b.memo };
  },
  check(b, ctx) {
    decodeAddress(b.to, ctx.addressPrefix);
    checkAssetId(b.asset);
    if (b.amount <= 0n) throw new TxRejected('BAD_AMOUNT', 'amount must be greater than zero');
    if (Buffer.byteLength(b.memo) > MAX_MEMO_BYTES) throw new TxRejected('TX_TOO_LARGE', `memo exceeds ${MAX_MEMO_BYTES} bytes`);
  },
};

const genesisJson = z.strictObject({
  producer: z.string().regex(/^[0-9a-f]{64}$/),
  addressPrefix: z.string().regex(/^[a-z]{1,4}$/),
  assets: z.array(z.strictObject({ id: z.string(), decimals: z.number().int().min(0).max(MAX_DECIMALS) })).max(256),
  allocations: z.array(z.strictObject({ address: z.string(), asset: z.string(), amount: z.unknown() })).max(128),
});

const genesisCodec: BodyCodec<GenesisBody> = {
  encode(b, w) {
    w.raw(b.producer).str(b.addressPrefix).u32(b.assets.length);
    for (const a of b.assets) w.str(a.id).u8(a.decimals);
    w.u32(b.allocations.length);
    for (const a of b.allocations) w.str(a.address).str(a.asset).u128(a.amount);
  },
  decode(r) {
    const producer = r.raw(32);
    const addressPrefix = r.str();
    const assets: AssetSpec[] = [];
    for (let i = r.u32(); i > 0; i--) assets.push({ id: r.str(), decimals: r.u8() });
    const allocations: Allocation[] = [];
    for (let i = r.u32(); i > 0; i--) allocations.push({ address: r.str(), asset: r.str(), amount: r.u128() });
    return { producer, addressPrefix, assets, allocations };
  },
  fromJson(json) {
    const p = genesisJson.safeParse(json);
    if (!p.success) throw malformed('genesis body', p.error);
    return {
      producer: fromHex(p.data.producer, 32),
      addressPrefix: p.data.addressPrefix,
      assets: p.data.assets,
      allocations: p.data.allocations.map((a) => ({ address: a.address, asset: a.asset, amount: parseAmount(a.amount) })),
    };
  },
  toJson(b) {
    return {
      producer: toHex(b.producer),
      addressPrefix: b.addressPrefix,
      assets: b.assets,
      allocations: b.allocations.map((a) => ({ ...a, amount: a.amount.toString() })),
    };
  },
  check(b, ctx) {
    if (b.addressPrefix !== ctx.addressPrefix) throw new TxRejected('WRONG_NETWORK', 'genesis address prefix differs from the network');
    const ids = new Set<string>();
    for (const a of b.assets) {
      checkAssetId(a.id);
      if (a.decimals > MAX_DECIMALS) throw new TxRejected('TX_MALFORMED', `asset ${a.id}: too many decimals`);
      if (ids.has(a.id)) throw new TxRejected('TX_MALFORMED', `asset ${a.id} declared twice`);
      ids.add(a.id);
    }
    for (const a of b.allocations) {
      decodeAddress(a.address, ctx.addressPrefix);
      if (!ids.has(a.asset)) throw new TxRejected('UNKNOWN_ASSET', `allocation of undeclared asset ${a.asset}`);
      if (a.amount <= 0n) throw new TxRejected('BAD_AMOUNT', 'allocation amount must be greater than zero');
    }
  },
};

export const TX_BODY_CODECS: { [T in TxType]: BodyCodec<TxBodies[T]> } = {
  genesis: genesisCodec,
  transfer: transferCodec,
  ...BRIDGE_BODY_CODECS,
  ...XFER_BODY_CODECS,
};
