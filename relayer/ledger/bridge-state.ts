/**
 * Typed bridge state records over the ledger's generic entries (canonical JSON values
 * under path-like keys; docs/hub-encoding.md lists them), and `StateOverlay`: the
 * read-your-writes view one transaction executes against, which turns what it wrote
 * into the block's ordered state changes.
 */
import { canonicalBytes, parseStateRecord, type CanonicalValue } from './canonical-json.ts';
import type { LedgerState, StateChange } from './state.ts';
import type { Attestation, ChainRegisterBody, SignatureShareBody } from './bridge-bodies.ts';

export type ChainRecord = ChainRegisterBody;

export interface ChainCursor {
  /** Next event id the hub applies (deposits and executions share the sequence). */
  nextEventId: string;
  /** Id the next withdrawal action gets. */
  nextActionId: string;
  /** Set when the chain is halted (an execution the hub did not authorise, ...): the reason. */
  halted: string | null;
}

export interface VoteRecord {
  /** listener address → digest of the attestation it voted for. */
  byListener: Record<string, string>;
  /** digest → attestation. */
  items: Record<string, Attestation>;
}

export type ActionStatus = 'created' | 'signed' | 'executed' | 'claimable-on-chain' | 'skipped' | 'mismatch';

/** What action n was before a hard override rewrote it (kept to settle whichever payload executes at n). */
export interface OverriddenAction {
  override: 'skip' | 'replace';
  kind: 'release' | 'mint';
  recipient: string;
  hubAmount: string;
  chainAmount: string;
  /** The payload the original was co-signed for; null if it never was (then it cannot execute). */
  payloadHash: string | null;
}

/** A hard override of action n, from proposal to the processor's confirmation. */
export interface OverrideRecord {
  actionId: string;
  kind: 'skip' | 'replace';
  /** For a replacement: what it pays instead (same asset). */
  replacement: { recipient: string; hubAmount: string; chainAmount: string } | null;
  proposer: string;
  proposeTx: string;
  /** Approvers who confirmed (the proposer included), sorted. */
  confirmations: string[];
  /** proposed → applied (the processor confirmed; action n rewritten) → or moot (n executed first). */
  status: 'proposed' | 'applied' | 'moot';
}

export interface ActionRecord {
  actionId: string;
  kind: 'release' | 'mint' | 'noop';
  /** The hub account the withdrawal debited; null for a deposit returned by quorum. */
  owner: string | null;
  /** The hub asset it pays out; null for stray tokens, which the hub never accounted. */
  hubAsset: string | null;
  hubAmount: string;
  chainAsset: string;
  recipient: string;
  chainAmount: string;
  /** The hub transaction that created the action: the withdrawal, or the vote that completed a return's quorum. */
  withdrawTx: string;
  /** Set when the action sends a claimable or stray deposit back to its refund address. */
  returnOf: { source: 'claimable' | 'stray' | 'migration'; eventId: string } | null;
  status: ActionStatus;
  /** What approvers committed to (set by the first approval; every later share must match). */
  payloadHash: string | null;
  approvals: Record<string, SignatureShareBody>;
  processor: SignatureShareBody | null;
  /** The execution, once attested: tx hash and the payload hash that executed. */
  execution: { txHash: string; payloadHash: string; paid: boolean; eventId: string } | null;
  /** Set by a hard override: the action as it was before. */
  overridden?: OverriddenAction;
}

export type EventOutcome = 'credited' | 'claimable' | 'stray' | 'settled' | 'halted' | 'migration';

export interface EventRecord {
  eventId: string;
  kind: Attestation['kind'];
  txHash: string;
  index: number;
  outcome: EventOutcome;
  /** What the outcome concerns: the credited hub address, the action id, the claim reason. */
  detail: string;
}

export interface ClaimableRecord {
  eventId: string;
  hubAsset: string;
  hubAmount: string;
  refundTo: string;
  reason: string;
  txHash: string;
}

export interface StrayRecord {
  eventId: string;
  chainAsset: string;
  amount: string;
  refundTo: string;
  txHash: string;
}

/** Approvers who voted to return a claimable or stray deposit (until the quorum creates the action). */
export interface ReturnVoteRecord {
  approvers: string[];
}

export interface CustodyRecord {
  /**
   * Lock mode: what custody holds for the hub (deposits in + treasury top-ups − settled
   * releases). Mint mode: bridged supply outstanding.
   */
  held: string;
  /** Reserved out of `held`: created actions not yet settled, and (lock mode) claimable deposits. */
  pendingOut: string;
}

/** A withdrawal that custody could not cover yet, waiting in the pending-funds FIFO of (chain, asset). */
export interface PendingTransfer {
  /** Arrival number in the FIFO of (chain, asset), from 1. */
  seq: string;
  chain: string;
  hubAsset: string;
  owner: string;
  hubAmount: string;
  chainAsset: string;
  recipient: string;
  chainAmount: string;
  withdrawTx: string;
  /** waiting → action (became action `actionId`) or cancelled (refunded on the hub by `cancelTx`). */
  status: 'waiting' | 'action' | 'cancelled';
  actionId: string | null;
  cancelTx: string | null;
}

/** The pending-funds FIFO of (chain, asset): entries `head`..`next` − 1, of which `waiting` still wait. */
export interface PendingFifo {
  head: string;
  next: string;
  waiting: number;
  /** Sum of the waiting entries' hub amounts. */
  waitingAmount: string;
}

/** One custody balance reading at a checkpoint block, as a listener attests it. */
export interface CustodySyncItem {
  /** Chain asset id of a lock-mode asset. */
  asset: string;
  blockHeight: string;
  blockHash: string;
  /** Free custody at the block, in chain base units (EVM: balance minus what is claimable on the chain). */
  balance: string;
  /** Deposits in minus releases out, up to and including the block, in chain base units. */
  floor: string;
}

/** Listener-attested custody balance syncs of (chain, asset): the last one applied, and votes on later ones. */
export interface CustodySyncRecord {
  /** Height of the last applied sync ('0': none yet). */
  height: string;
  blockHash: string;
  balance: string;
  floor: string;
  /** Surplus (balance − floor) already credited to the treasury, chain base units. */
  surplus: string;
  /** Hub base units credited to the treasury so far. */
  credited: string;
  /** Votes on later heights: height → listener → digest, digest → item. */
  votes: Record<string, { byListener: Record<string, string>; items: Record<string, CustodySyncItem> }>;
}

export const keys = {
  chain: (c: string) => `chain/${c}`,
  cursor: (c: string) => `chain/${c}/cursor`,
  votes: (c: string, eventId: bigint | string) => `votes/${c}/${eventId}`,
  event: (c: string, eventId: bigint | string) => `event/${c}/${eventId}`,
  action: (c: string, id: bigint | string | number) => `action/${c}/${id}`,
  claimable: (c: string, eventId: bigint | string) => `claimable/${c}/${eventId}`,
  stray: (c: string, eventId: bigint | string) => `stray/${c}/${eventId}`,
  returnVotes: (c: string, eventId: bigint | string) => `returns/${c}/${eventId}`,
  custody: (c: string, hubAsset: string) => `custody/${c}/${hubAsset}`,
  override: (c: string, id: bigint | string) => `override/${c}/${id}`,
  overrideConsent: (c: string, id: bigint | string) => `override-consent/${c}/${id}`,
  fifo: (c: string, hubAsset: string) => `fifo/${c}/${hubAsset}`,
  pending: (c: string, hubAsset: string, seq: bigint | string | number) => `pending/${c}/${hubAsset}/${seq}`,
  custodySync: (c: string, hubAsset: string) => `custody-sync/${c}/${hubAsset}`,
};

/** Reads a record from committed state (followers, approvers, API). */
export function readRecord<T>(state: LedgerState, key: string): T | undefined {
  const v = state.entries.get(key);
  return v ? (parseStateRecord(v) as T) : undefined;
}

/** The state one transaction sees, including its own writes. */
export class StateOverlay {
  private readonly entries = new Map<string, Uint8Array | null>();
  private readonly balances = new Map<string, { address: string; asset: string; amount: bigint }>();

  constructor(readonly base: LedgerState) {}

  get<T>(key: string): T | undefined {
    const v = this.entries.has(key) ? this.entries.get(key) : this.base.entries.get(key);
    return v ? (parseStateRecord(v) as T) : undefined;
  }
  set(key: string, value: object): void {
    this.entries.set(key, canonicalBytes(value as CanonicalValue));
  }
  delete(key: string): void {
    this.entries.set(key, null);
  }
  /** Keys this transaction wrote so far, in first-write order. */
  writtenKeys(): string[] {
    return [...this.entries.keys()];
  }
  balance(address: string, asset: string): bigint {
    return this.balances.get(`${address}\u0000${asset}`)?.amount ?? this.base.balance(address, asset);
  }
  setBalance(address: string, asset: string, amount: bigint): void {
    this.balances.set(`${address}\u0000${asset}`, { address, asset, amount });
  }

  /** Balances first, then entries, each in first-write order: deterministic for every node. */
  changes(): StateChange[] {
    const out: StateChange[] = [];
    for (const b of this.balances.values()) out.push({ kind: 'balance', ...b });
    for (const [key, value] of this.entries) out.push({ kind: 'entry', key, value });
    return out;
  }
}
