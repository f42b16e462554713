/**
 * Hub transactions: encoding, signing and strict parsing (docs/hub-encoding.md).
 *
 * A transaction is signed by its sender over domain-separated bytes:
 *   "KLX/hub-tx/v1" | network | channel | type | sender | lane | nonce | body
 * so a signature made for one network, channel or transaction type is worthless on
 * any other. The transaction id is SHA-256 of the signed encoding (signature included).
 */
import { z } from 'zod';
import { ByteReader, ByteWriter, fromHex, sha256, toHex } from './bytes.ts';
import { TxRejected } from './errors.ts';
import { ADDRESS_VERSION_KEY, decodeAddress } from './address.ts';
import { verifyEd25519, type Ed25519Signer } from './keys.ts';
import { TX_BODY_CODECS, type TxBodies, type TxType } from './tx-bodies.ts';

export const TX_TAG = new TextEncoder().encode('KLX/hub-tx/v1');
export const MAX_TX_BYTES = 15 * 1024;
export const MAX_LANE = 0xffff;

export interface ChannelContext {
  network: string;
  channel: string;
  addressPrefix: string;
}

export interface UnsignedTx<T extends TxType = TxType> {
  network: string;
  channel: string;
  type: T;
  sender: string;
  lane: number;
  nonce: bigint;
  body: TxBodies[T];
}

export interface SignedTx<T extends TxType = TxType> extends UnsignedTx<T> {
  signature: Uint8Array;
  /** SHA-256 of `encoded`. */
  id: Uint8Array;
  /** The canonical encoding including the signature (what blocks carry). */
  encoded: Uint8Array;
}

export function signingBytes(tx: UnsignedTx): Uint8Array {
  const codec = TX_BODY_CODECS[tx.type];
  const body = new ByteWriter();
  codec.encode(tx.body as never, body);
  return new ByteWriter()
    .raw(TX_TAG)
    .str(tx.network)
    .str(tx.channel)
    .str(tx.type)
    .str(tx.sender)
    .u32(tx.lane)
    .u64(tx.nonce)
    .bytes(body.finish())
    .finish();
}

function seal<T extends TxType>(tx: UnsignedTx<T>, unsigned: Uint8Array, signature: Uint8Array): SignedTx<T> {
  const encoded = new ByteWriter().raw(unsigned).bytes(signature).finish();
  return { ...tx, signature, encoded, id: sha256(encoded) };
}

export function signTx<T extends TxType>(tx: UnsignedTx<T>, signer: Ed25519Signer): SignedTx<T> {
  const bytes = signingBytes(tx);
  return seal(tx, bytes, signer.sign(bytes));
}

/** Decodes a transaction from its canonical bytes (as carried in a block). Structure only. */
export function decodeTx(encoded: Uint8Array): SignedTx {
  try {
    const r = new ByteReader(encoded);
    const tag = r.raw(TX_TAG.length);
    if (Buffer.compare(tag, TX_TAG) !== 0) throw new RangeError('bad transaction tag');
    const network = r.str();
    const channel = r.str();
    const type = r.str();
    const sender = r.str();
    const lane = r.u32();
    const nonce = r.u64();
    const bodyBytes = r.bytes();
    const signature = r.bytes();
    r.end();
    if (!isTxType(type)) throw new TxRejected('UNKNOWN_TX_TYPE', `unknown transaction type "${type}"`);
    const br = new ByteReader(bodyBytes);
    const body = TX_BODY_CODECS[type].decode(br);
    br.end();
    return { network, channel, type, sender, lane, nonce, body, signature, encoded, id: sha256(encoded) };
  } catch (e) {
    if (e instanceof TxRejected) throw e;
    throw new TxRejected('TX_MALFORMED', `transaction bytes do not decode: ${(e as Error).message}`);
  }
}

function isTxType(t: string): t is TxType {
  return Object.hasOwn(TX_BODY_CODECS, t);
}

/** What a transaction's signature check needs: the sender's key, the signed bytes, the signature. */
export interface SignatureClaim {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

export const BAD_SIGNATURE_MESSAGE = 'signature does not verify for the sender over this network, channel and content';

/**
 * Checks everything about a transaction that does not depend on ledger state:
 * network, channel, sender address, lane, size and the sender's signature.
 */
export function verifyTxStatically(tx: SignedTx, ctx: ChannelContext): void {
  const claim = checkTxStructure(tx, ctx);
  if (!verifyEd25519(claim.publicKey, claim.message, claim.signature)) throw new TxRejected('BAD_SIGNATURE', BAD_SIGNATURE_MESSAGE);
}

/**
 * verifyTxStatically without the signature itself, which the caller must then verify
 * (e.g. on a worker thread): returns what to verify.
 */
export function checkTxStructure(tx: SignedTx, ctx: ChannelContext): SignatureClaim {
  if (tx.network !== ctx.network) {
    throw new TxRejected('WRONG_NETWORK', `transaction is for network "${tx.network}", this is "${ctx.network}"`);
  }
  if (tx.channel !== ctx.channel) {
    throw new TxRejected('WRONG_CHANNEL', `transaction is for channel "${tx.channel}", this is "${ctx.channel}"`);
  }
  if (tx.encoded.length > MAX_TX_BYTES) {
    throw new TxRejected('TX_TOO_LARGE', `transaction is ${tx.encoded.length} bytes, the limit is ${MAX_TX_BYTES}`);
  }
  if (!Number.isInteger(tx.lane) || tx.lane < 0 || tx.lane > MAX_LANE) {
    throw new TxRejected('TX_MALFORMED', `lane must be an integer from 0 to ${MAX_LANE}`);
  }
  const sender = decodeAddress(tx.sender, ctx.addressPrefix);
  if (sender.version !== ADDRESS_VERSION_KEY) {
    throw new TxRejected('NOT_AUTHORIZED', 'a module address cannot sign transactions');
  }
  TX_BODY_CODECS[tx.type].check(tx.body as never, ctx);
  return { publicKey: sender.payload, message: tx.encoded.subarray(0, tx.encoded.length - tx.signature.length - 4), signature: tx.signature };
}

const envelopeSchema = z.strictObject({
  network: z.string().min(1).max(32),
  channel: z.string().min(1).max(32),
  type: z.string().min(1).max(32),
  sender: z.string().min(1).max(64),
  lane: z.number().int().min(0).max(MAX_LANE),
  nonce: z.string().regex(/^(0|[1-9][0-9]{0,19})$/),
  body: z.unknown(),
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});

/** JSON wire form → signed transaction. Throws TxRejected with a precise code; never partially accepts. */
export function parseTxJson(json: unknown): SignedTx {
  const env = envelopeSchema.safeParse(json);
  if (!env.success) {
    const issue = env.error.issues[0];
    throw new TxRejected('TX_MALFORMED', `transaction envelope: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const e = env.data;
  if (!isTxType(e.type)) throw new TxRejected('UNKNOWN_TX_TYPE', `unknown transaction type "${e.type}"`);
  const nonce = BigInt(e.nonce);
  if (nonce > (1n << 64n) - 1n) throw new TxRejected('TX_MALFORMED', 'nonce exceeds u64');
  const body = TX_BODY_CODECS[e.type].fromJson(e.body);
  const unsigned: UnsignedTx = { network: e.network, channel: e.channel, type: e.type, sender: e.sender, lane: e.lane, nonce, body };
  return seal(unsigned, signingBytes(unsigned), fromHex(e.signature, 64));
}

export function txToJson(tx: SignedTx): Record<string, unknown> {
  return {
    network: tx.network,
    channel: tx.channel,
    type: tx.type,
    sender: tx.sender,
    lane: tx.lane,
    nonce: tx.nonce.toString(),
    body: TX_BODY_CODECS[tx.type].toJson(tx.body as never),
    signature: toHex(tx.signature),
  };
}

