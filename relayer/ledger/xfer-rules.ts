/**
 * The participant side of an inter-channel transfer (DESIGN.md section 3; ADR 0017): presumed-
 * commit two-phase commit, with the coordinator ordering the steps and never able to move funds
 * on its own word.
 *
 * - `xfer-prepare`, source side: moves the amount from the sender to the transfer's escrow, on the
 *   strength of the sender's signed `xfer-request` only (a yes vote); a refusal is a no vote.
 * - `xfer-prepare`, destination side: checks the same signed request, the recipient and the
 *   link's limit (yes), or refuses (no).
 * - `xfer-commit`: needs the peer channel's signed block holding the peer's prepare of the same
 *   request; the source burns the escrow, the destination credits the recipient.
 * - `xfer-abort`: leaves a permanent tombstone (a late prepare of that id is refused); the
 *   source refunds an escrow only against the destination's signed abort block, so the
 *   destination can never commit what the source refunded.
 * Every step is idempotent: repeating it is refused with a code the coordinator reads as done.
 */
import { fromHex, MAX_U128, sha256, toHex } from './bytes.ts';
import { TxRejected } from './errors.ts';
import { ADDRESS_VERSION_MODULE, decodeAddress, moduleAddress } from './address.ts';
import { decodeBlockWire, verifyBlockSignature } from './block.ts';
import { producerAddress } from './bridge-accounts.ts';
import { decodeTx, verifyTxStatically, type SignedTx } from './transaction.ts';
import { transferIdText, type ChannelLinkBody, type XferPrepareBody } from './xfer-bodies.ts';
import type { StateOverlay } from './bridge-state.ts';

export interface XferRecord {
  /** The transfer id, "epoch.seq". */
  id: string;
  /** This channel's side; null on a tombstone for an id this channel never prepared. */
  side: 'source' | 'dest' | null;
  peer: string;
  sender: string | null;
  recipient: string | null;
  asset: string | null;
  amount: string | null;
  /** Id of the sender's signed request (both sides name the same one). */
  requestHash: string | null;
  /** Source side: the module address holding the amount while prepared. */
  escrow: string | null;
  status: 'prepared' | 'committed' | 'aborted';
  preparedHeight: string | null;
  /** Timestamp of the block before the prepare (the resolver's clock for "older than a bound"). */
  preparedAtMs: string | null;
  commitHeight: string | null;
  abortHeight: string | null;
}

export const xferKeys = {
  link: (peer: string) => `xlink/${peer}`,
  transfer: (id: string) => `xfer/${id}`,
  request: (hash: string) => `xfer-request/${hash}`,
};

export const escrowAddress = (prefix: string, id: string): string => moduleAddress(prefix, `xfer-escrow/${id}`);

function linkOf(o: StateOverlay, peer: string): ChannelLinkBody {
  const link = o.get<ChannelLinkBody>(xferKeys.link(peer));
  if (!link) throw new TxRejected('UNKNOWN_CHANNEL', `channel "${peer}" is not linked to this channel`);
  return link;
}

function asCoordinator(link: ChannelLinkBody, sender: string): void {
  if (sender !== link.coordinator) throw new TxRejected('NOT_AUTHORIZED', `only the coordinator of the link with ${link.peer} drives its transfers`);
}

export function linkChannel(o: StateOverlay, tx: SignedTx<'channel-link'>): void {
  if (tx.sender !== producerAddress(o.base)) throw new TxRejected('NOT_AUTHORIZED', 'only the channel producer links channels');
  if (tx.body.peer === tx.channel) throw new TxRejected('TX_MALFORMED', 'a channel cannot link to itself');
  o.set(xferKeys.link(tx.body.peer), tx.body);
}

/** The sender's signed request inside a prepare: decoded and verified (network, signature, body). */
export function openRequest(tx: SignedTx, requestHex: string, addressPrefix: string): SignedTx<'xfer-request'> {
  const req = decodeTx(fromHex(requestHex));
  if (req.type !== 'xfer-request') throw new TxRejected('TX_MALFORMED', `the request is a ${req.type}, not an xfer-request`);
  verifyTxStatically(req, { network: tx.network, channel: req.channel, addressPrefix });
  return req as SignedTx<'xfer-request'>;
}

function existing(o: StateOverlay, id: string, requestHash: string): void {
  const rec = o.get<XferRecord>(xferKeys.transfer(id));
  if (!rec) return;
  if (rec.status === 'aborted') throw new TxRejected('TRANSFER_ABORTED', `transfer ${id} was aborted here; a late prepare is refused`);
  if (rec.requestHash !== requestHash) throw new TxRejected('TRANSFER_ID_USED', `transfer id ${id} already names another request`);
  if (rec.status === 'committed') throw new TxRejected('ALREADY_COMMITTED', `transfer ${id} is already committed here`);
  throw new TxRejected('ALREADY_PREPARED', `transfer ${id} is already prepared here`, { height: rec.preparedHeight ?? '' });
}

export function prepareTransfer(o: StateOverlay, tx: SignedTx<'xfer-prepare'>): void {
  const b: XferPrepareBody = tx.body;
  const id = transferIdText(b.id);
  const prefix = o.base.addressPrefix ?? '';
  const req = openRequest(tx, b.request, prefix);
  const r = req.body;
  const [here, peer] = b.side === 'source' ? [req.channel, r.to] : [r.to, req.channel];
  if (here !== tx.channel) throw new TxRejected('WRONG_CHANNEL', `the request's ${b.side} channel is ${here}, this is ${tx.channel}`);
  const link = linkOf(o, peer);
  asCoordinator(link, tx.sender);
  const requestHash = toHex(req.id);
  existing(o, id, requestHash);
  if (!o.base.assets.has(r.asset)) throw new TxRejected('UNKNOWN_ASSET', `asset "${r.asset}" is not known on this channel`);
  const amount = BigInt(r.amount);
  const base = { id, side: b.side, peer, sender: req.sender, recipient: r.recipient, asset: r.asset, amount: r.amount, requestHash, status: 'prepared' as const };
  const at = { preparedHeight: (o.base.head.height + 1n).toString(), preparedAtMs: o.base.head.timestampMs.toString(), commitHeight: null, abortHeight: null };
  if (b.side === 'source') {
    if (o.get(xferKeys.request(requestHash))) throw new TxRejected('REQUEST_USED', 'this signed request was already used for another transfer');
    const balance = o.balance(req.sender, r.asset);
    if (balance < amount) throw new TxRejected('INSUFFICIENT_BALANCE', `balance ${balance} is less than ${amount}`, { balance: balance.toString(), asset: r.asset });
    const escrow = escrowAddress(prefix, id);
    o.setBalance(req.sender, r.asset, balance - amount);
    o.setBalance(escrow, r.asset, amount);
    o.set(xferKeys.request(requestHash), { id });
    o.set(xferKeys.transfer(id), { ...base, escrow, ...at } satisfies XferRecord);
    return;
  }
  const to = decodeAddress(r.recipient, prefix);
  if (to.version === ADDRESS_VERSION_MODULE && !o.base.isKnownAccount(r.recipient)) {
    throw new TxRejected('UNKNOWN_ADDRESS', 'the recipient is a module address that does not exist on this channel');
  }
  if (amount > BigInt(link.maxAmount)) throw new TxRejected('TRANSFER_LIMIT', `${amount} exceeds the limit of ${link.maxAmount} for one transfer from ${peer}`);
  if (o.balance(r.recipient, r.asset) + amount > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', "the recipient's balance would exceed u128");
  o.set(xferKeys.transfer(id), { ...base, escrow: null, ...at } satisfies XferRecord);
}

/** The peer's block proving one of its steps for transfer `id`; refused unless its producer signed it. */
function peerStep(tx: SignedTx, link: ChannelLinkBody, proofHex: string, type: 'xfer-prepare' | 'xfer-abort', id: string): SignedTx {
  let block;
  try {
    block = decodeBlockWire(fromHex(proofHex));
  } catch (e) {
    throw new TxRejected('BAD_PROOF', `the proof is not a block: ${(e as Error).message}`);
  }
  if (block.network !== tx.network || block.channel !== link.peer) throw new TxRejected('BAD_PROOF', `the proof is not a block of ${link.peer} on ${tx.network}`);
  if (!verifyBlockSignature(block, fromHex(link.peerProducer))) throw new TxRejected('BAD_PROOF', `the proof block is not signed by ${link.peer}'s producer`);
  const step = block.tx;
  if (step.type !== type || step.sender !== link.coordinator) throw new TxRejected('BAD_PROOF', `the proof block holds no coordinator ${type}`);
  if (transferIdText((step.body as { id: { epoch: string; seq: string } }).id) !== id) throw new TxRejected('BAD_PROOF', `the proof block is about another transfer than ${id}`);
  return step;
}

function preparedRecord(o: StateOverlay, id: string): XferRecord {
  const rec = o.get<XferRecord>(xferKeys.transfer(id));
  if (!rec) throw new TxRejected('NOT_PREPARED', `transfer ${id} was never prepared here`);
  if (rec.status === 'aborted') throw new TxRejected('ALREADY_ABORTED', `transfer ${id} is aborted here`);
  if (rec.status === 'committed') throw new TxRejected('ALREADY_COMMITTED', `transfer ${id} is already committed here`, { height: rec.commitHeight ?? '' });
  return rec;
}

export function commitTransfer(o: StateOverlay, tx: SignedTx<'xfer-commit'>): void {
  const id = transferIdText(tx.body.id);
  const rec = preparedRecord(o, id);
  const link = linkOf(o, rec.peer);
  asCoordinator(link, tx.sender);
  const step = peerStep(tx, link, tx.body.proof, 'xfer-prepare', id) as SignedTx<'xfer-prepare'>;
  if (step.body.side === rec.side || toHex(sha256(fromHex(step.body.request))) !== rec.requestHash) {
    throw new TxRejected('BAD_PROOF', `the proof block prepares another request or the same side of transfer ${id}`);
  }
  const asset = rec.asset ?? '';
  const amount = BigInt(rec.amount ?? '0');
  if (rec.side === 'source') {
    o.setBalance(rec.escrow ?? '', asset, 0n);
  } else {
    const recipient = rec.recipient ?? '';
    o.setBalance(recipient, asset, o.balance(recipient, asset) + amount);
  }
  o.set(xferKeys.transfer(id), { ...rec, status: 'committed', commitHeight: (o.base.head.height + 1n).toString() } satisfies XferRecord);
}

export function abortTransfer(o: StateOverlay, tx: SignedTx<'xfer-abort'>): void {
  const id = transferIdText(tx.body.id);
  const link = linkOf(o, tx.body.peer);
  asCoordinator(link, tx.sender);
  const height = (o.base.head.height + 1n).toString();
  const rec = o.get<XferRecord>(xferKeys.transfer(id));
  if (!rec) {
    const tombstone: XferRecord = {
      id, side: null, peer: tx.body.peer, sender: null, recipient: null, asset: null, amount: null, requestHash: null, escrow: null,
      status: 'aborted', preparedHeight: null, preparedAtMs: null, commitHeight: null, abortHeight: height,
    };
    o.set(xferKeys.transfer(id), tombstone);
    return;
  }
  preparedRecord(o, id);
  if (rec.peer !== tx.body.peer) throw new TxRejected('BAD_PROOF', `transfer ${id} is with ${rec.peer}, not ${tx.body.peer}`);
  if (rec.side === 'source') {
    // Refund only once the destination can no longer commit: its own abort is the proof.
    if (!tx.body.proof) throw new TxRejected('BAD_PROOF', `the source refunds transfer ${id} only against the destination's abort block`);
    peerStep(tx, link, tx.body.proof, 'xfer-abort', id);
    const asset = rec.asset ?? '';
    const sender = rec.sender ?? '';
    o.setBalance(rec.escrow ?? '', asset, 0n);
    o.setBalance(sender, asset, o.balance(sender, asset) + BigInt(rec.amount ?? '0'));
  }
  o.set(xferKeys.transfer(id), { ...rec, status: 'aborted', abortHeight: height } satisfies XferRecord);
}
