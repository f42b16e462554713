/**
 * Blocks (docs/hub-encoding.md). One transaction per block. The block hash is
 * SHA-256 over the canonical encoding of
 *   "KLX/hub-block/v1" | network | channel | height | previous hash | timestamp (ms)
 *   | rules version | transaction (signed encoding) | state commitment after it
 * and the producer signs "KLX/hub-block-sig/v1" | hash with its ed25519 key.
 * The wire form is that encoding followed by the length-prefixed signature; it is at
 * most 16 KiB.
 */
import { ByteReader, ByteWriter, sha256 } from './bytes.ts';
import { verifyEd25519, type Ed25519Signer } from './keys.ts';
import { decodeTx, type SignedTx } from './transaction.ts';
import type { ChainHead } from './state.ts';

export const BLOCK_TAG = new TextEncoder().encode('KLX/hub-block/v1');
export const BLOCK_SIG_TAG = new TextEncoder().encode('KLX/hub-block-sig/v1');
export const MAX_BLOCK_BYTES = 16 * 1024;

export interface BlockHeader {
  network: string;
  channel: string;
  height: bigint;
  prevHash: Uint8Array;
  timestampMs: bigint;
  rulesVersion: number;
  stateCommitment: Uint8Array;
}

export interface Block extends BlockHeader {
  tx: SignedTx;
  /** The hashed bytes (everything but the signature). */
  body: Uint8Array;
  hash: Uint8Array;
  signature: Uint8Array;
}

export function encodeBlockBody(h: BlockHeader, tx: SignedTx): Uint8Array {
  return new ByteWriter()
    .raw(BLOCK_TAG)
    .str(h.network)
    .str(h.channel)
    .u64(h.height)
    .raw(h.prevHash)
    .u64(h.timestampMs)
    .u32(h.rulesVersion)
    .bytes(tx.encoded)
    .raw(h.stateCommitment)
    .finish();
}

function sigMessage(hash: Uint8Array): Uint8Array {
  return new ByteWriter().raw(BLOCK_SIG_TAG).raw(hash).finish();
}

export function sealBlock(h: BlockHeader, tx: SignedTx, producer: Ed25519Signer): Block {
  const body = encodeBlockBody(h, tx);
  const hash = sha256(body);
  return { ...h, tx, body, hash, signature: producer.sign(sigMessage(hash)) };
}

/** The chain head a block leaves behind. */
export function headOf(b: Block): ChainHead {
  return { height: b.height, hash: b.hash, timestampMs: b.timestampMs, commitment: b.stateCommitment, rulesVersion: b.rulesVersion };
}

export function blockWireBytes(b: Block): Uint8Array {
  return new ByteWriter().raw(b.body).bytes(b.signature).finish();
}

export function blockWireSize(bodyLength: number, signatureLength = 64): number {
  return bodyLength + 4 + signatureLength;
}

export function verifyBlockSignature(b: Block, producer: Uint8Array): boolean {
  return verifyEd25519(producer, sigMessage(b.hash), b.signature);
}

/** Decodes a block from its body and signature; structure only (the verifier checks meaning). */
export function decodeBlock(body: Uint8Array, signature: Uint8Array): Block {
  const r = new ByteReader(body);
  const tag = r.raw(BLOCK_TAG.length);
  if (Buffer.compare(tag, BLOCK_TAG) !== 0) throw new RangeError('bad block tag');
  const network = r.str();
  const channel = r.str();
  const height = r.u64();
  const prevHash = r.raw(32);
  const timestampMs = r.u64();
  const rulesVersion = r.u32();
  const tx = decodeTx(r.bytes());
  const stateCommitment = r.raw(32);
  r.end();
  return { network, channel, height, prevHash, timestampMs, rulesVersion, stateCommitment, tx, body, hash: sha256(body), signature };
}

export function decodeBlockWire(wire: Uint8Array): Block {
  if (wire.length > MAX_BLOCK_BYTES) throw new RangeError(`block is ${wire.length} bytes, over ${MAX_BLOCK_BYTES}`);
  const r = new ByteReader(wire);
  const sigLen = 4 + 64;
  if (wire.length < sigLen) throw new RangeError('truncated block');
  const body = r.raw(wire.length - sigLen);
  const signature = r.bytes();
  r.end();
  return decodeBlock(body, signature);
}
