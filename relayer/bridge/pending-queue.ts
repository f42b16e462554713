/**
 * The pending-funds FIFO of (chain, asset) as users and exchanges see it: the transfers still
 * waiting, in arrival order, each with its position and the amount ahead of it.
 */
import type { PendingTransfer } from '../ledger/bridge-state.ts';

export interface QueuedTransfer {
  seq: string;
  owner: string;
  hubAmount: string;
  recipient: string;
  /** 1 for the head. */
  position: number;
  /** Sum of the hub amounts of the transfers ahead of it. */
  amountAhead: string;
}

/** Waiting transfers of `hubAsset` in arrival order (records of any asset and status may be given). */
export function pendingQueue(records: readonly PendingTransfer[], hubAsset: string): QueuedTransfer[] {
  const waiting = records.filter((r) => r.hubAsset === hubAsset && r.status === 'waiting').sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  let ahead = 0n;
  return waiting.map((r, i) => {
    const q = { seq: r.seq, owner: r.owner, hubAmount: r.hubAmount, recipient: r.recipient, position: i + 1, amountAhead: ahead.toString() };
    ahead += BigInt(r.hubAmount);
    return q;
  });
}
