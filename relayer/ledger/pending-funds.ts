/**
 * The pending-funds FIFO of (chain, asset) (DESIGN.md section 3, issue 5). A withdrawal of a
 * lock-mode asset that custody cannot cover yet, or that arrives while earlier ones still
 * wait, is debited at once and waits here instead of failing. After every bridge
 * transaction, each FIFO whose custody or queue changed turns its head into action n while
 * unreserved custody covers it, strictly in arrival order; a head that custody cannot cover
 * blocks later transfers of the same (chain, asset) only. The owner may cancel a waiting
 * transfer and is refunded on the hub at once. Pure, like every rule.
 */
import { TxRejected } from './errors.ts';
import { MAX_U128, toHex } from './bytes.ts';
import type { SignedTx } from './transaction.ts';
import { availableCustody, chainOf, createAction, reserveCustody } from './bridge-accounts.ts';
import { keys, type PendingFifo, type PendingTransfer, type StateOverlay } from './bridge-state.ts';

const EMPTY: PendingFifo = { head: '1', next: '1', waiting: 0, waitingAmount: '0' };

export function fifoOf(o: StateOverlay, chain: string, hubAsset: string): PendingFifo {
  return o.get<PendingFifo>(keys.fifo(chain, hubAsset)) ?? EMPTY;
}

/** A new withdrawal may become action n at once only if nothing of its (chain, asset) waits and custody covers it. */
export function coveredNow(o: StateOverlay, chain: string, hubAsset: string, amount: bigint): boolean {
  return fifoOf(o, chain, hubAsset).waiting === 0 && availableCustody(o, chain, hubAsset) >= amount;
}

export type WaitingTransfer = Pick<PendingTransfer, 'chain' | 'hubAsset' | 'owner' | 'hubAmount' | 'chainAsset' | 'recipient' | 'chainAmount' | 'withdrawTx'>;

/** Appends a (debited) withdrawal to the tail of its FIFO; returns its arrival number. */
export function enqueueWithdrawal(o: StateOverlay, t: WaitingTransfer): bigint {
  const fifo = fifoOf(o, t.chain, t.hubAsset);
  const seq = BigInt(fifo.next);
  o.set(keys.pending(t.chain, t.hubAsset, seq), { seq: seq.toString(), ...t, status: 'waiting', actionId: null, cancelTx: null } satisfies PendingTransfer);
  o.set(keys.fifo(t.chain, t.hubAsset), {
    ...fifo,
    next: (seq + 1n).toString(),
    waiting: fifo.waiting + 1,
    waitingAmount: (BigInt(fifo.waitingAmount) + BigInt(t.hubAmount)).toString(),
  } satisfies PendingFifo);
  return seq;
}

/** `withdraw-cancel`: the owner takes back a transfer that still waits; refunded on the hub now. */
export function cancelWithdrawal(o: StateOverlay, tx: SignedTx<'withdraw-cancel'>): void {
  const { chain, asset, seq } = tx.body;
  chainOf(o, chain);
  const entry = o.get<PendingTransfer>(keys.pending(chain, asset, seq));
  if (!entry) throw new TxRejected('NOT_PENDING', `no transfer ${seq} ever waited in the ${asset} queue of ${chain}`);
  if (entry.owner !== tx.sender) throw new TxRejected('NOT_OWNER', `transfer ${seq} of the ${asset} queue of ${chain} belongs to ${entry.owner}`);
  if (entry.status === 'action') throw new TxRejected('NOT_PENDING', `transfer ${seq} already left the queue as action ${entry.actionId} of ${chain}; it can no longer be cancelled`);
  if (entry.status === 'cancelled') throw new TxRejected('NOT_PENDING', `transfer ${seq} of the ${asset} queue of ${chain} was already cancelled`);
  const refunded = o.balance(entry.owner, asset) + BigInt(entry.hubAmount);
  if (refunded > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', "the owner's balance would exceed u128");
  o.setBalance(entry.owner, asset, refunded);
  o.set(keys.pending(chain, asset, seq), { ...entry, status: 'cancelled', cancelTx: toHex(tx.id) } satisfies PendingTransfer);
  const fifo = fifoOf(o, chain, asset);
  o.set(keys.fifo(chain, asset), { ...fifo, waiting: fifo.waiting - 1, waitingAmount: (BigInt(fifo.waitingAmount) - BigInt(entry.hubAmount)).toString() } satisfies PendingFifo);
}

/** (chain, hubAsset) of a `custody/…` or `fifo/…` key; chain names never contain '/', asset ids may. */
function custodyPair(key: string): [string, string] | null {
  const prefix = key.startsWith('custody/') ? 'custody/' : key.startsWith('fifo/') ? 'fifo/' : null;
  if (!prefix) return null;
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? [rest.slice(0, slash), rest.slice(slash + 1)] : null;
}

/**
 * Runs after every bridge transaction: every FIFO whose custody or queue the transaction
 * changed releases its waiting transfers that custody now covers, head first. Nothing moves
 * while the chain is halted.
 */
export function releaseCoveredTransfers(o: StateOverlay): void {
  const seen = new Set<string>();
  for (const key of o.writtenKeys()) {
    const pair = custodyPair(key);
    if (!pair || seen.has(pair.join('\u0000'))) continue;
    seen.add(pair.join('\u0000'));
    drain(o, ...pair);
  }
}

function drain(o: StateOverlay, chain: string, hubAsset: string): void {
  const fifo = o.get<PendingFifo>(keys.fifo(chain, hubAsset));
  if (!fifo || fifo.waiting === 0) return;
  if (chainOf(o, chain).cursor.halted) return;
  let head = BigInt(fifo.head);
  let { waiting } = fifo;
  let amount = BigInt(fifo.waitingAmount);
  for (const next = BigInt(fifo.next); head < next; head++) {
    const entry = o.get<PendingTransfer>(keys.pending(chain, hubAsset, head));
    if (!entry || entry.status !== 'waiting') continue; // cancelled behind the head: skipped once, for good
    const hubAmount = BigInt(entry.hubAmount);
    if (availableCustody(o, chain, hubAsset) < hubAmount) break;
    reserveCustody(o, chain, hubAsset, 'lock', hubAmount);
    const id = createAction(o, chain, {
      kind: 'release',
      owner: entry.owner,
      hubAsset,
      hubAmount: entry.hubAmount,
      chainAsset: entry.chainAsset,
      recipient: entry.recipient,
      chainAmount: entry.chainAmount,
      withdrawTx: entry.withdrawTx,
      returnOf: null,
    });
    o.set(keys.pending(chain, hubAsset, head), { ...entry, status: 'action', actionId: id.toString() } satisfies PendingTransfer);
    waiting -= 1;
    amount -= hubAmount;
  }
  if (head !== BigInt(fifo.head)) o.set(keys.fifo(chain, hubAsset), { ...fifo, head: head.toString(), waiting, waitingAmount: amount.toString() } satisfies PendingFifo);
}
