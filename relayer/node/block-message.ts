/**
 * The channel's client-facing record, modelled on the public Kalima client API: every
 * record is a message addressed by (address, key), with a sequence, the previous hash,
 * its hash and a body. A block is the message at address "/blocks", key = height.
 * `raw` carries the exact bytes a verifier checks; `body` is a convenience view.
 */
import { decodeBlock, type Block } from '../ledger/block.ts';
import { fromHex, toHex } from '../ledger/bytes.ts';
import { txToJson } from '../ledger/transaction.ts';
import type { StoredBlockRow } from '../store/channel-store.ts';

export interface BlockMessage {
  address: '/blocks';
  key: string;
  sequence: string;
  previousHash: string;
  hash: string;
  body: {
    channel: string;
    network: string;
    height: string;
    timestampMs: string;
    rulesVersion: number;
    stateCommitment: string;
    txId: string;
    tx: Record<string, unknown>;
  };
  raw: { body: string; signature: string };
}

export function blockToMessage(b: Block): BlockMessage {
  return {
    address: '/blocks',
    key: b.height.toString(),
    sequence: b.height.toString(),
    previousHash: toHex(b.prevHash),
    hash: toHex(b.hash),
    body: {
      channel: b.channel,
      network: b.network,
      height: b.height.toString(),
      timestampMs: b.timestampMs.toString(),
      rulesVersion: b.rulesVersion,
      stateCommitment: toHex(b.stateCommitment),
      txId: toHex(b.tx.id),
      tx: txToJson(b.tx),
    },
    raw: { body: toHex(b.body), signature: toHex(b.signature) },
  };
}

export function rowToMessage(row: StoredBlockRow): BlockMessage {
  return blockToMessage(decodeBlock(new Uint8Array(row.body), new Uint8Array(row.signature)));
}

/** Rebuilds a block from a message's raw bytes only (the decoded view is never trusted). */
export function messageToBlock(m: Pick<BlockMessage, 'raw'>): Block {
  return decodeBlock(fromHex(m.raw.body), fromHex(m.raw.signature));
}
