/**
 * The bridge's ledger rules (DESIGN.md sections 3 and 5): chain registration, listener
 * attestations (a deposit or an execution applies once L identical attestations from
 * distinct listeners exist, strictly in event-id order per chain), withdrawals that
 * create action n, approvals, the processor's co-signature, and claims of deposits
 * whose hub recipient was unusable. Pure like the rest of the rules: state in, changes
 * out, or TxRejected and nothing changes.
 */
import { MAX_U128, sha256, toHex } from './bytes.ts';
import { canonicalBytes } from './canonical-json.ts';
import { TxRejected } from './errors.ts';
import { ADDRESS_VERSION_KEY, decodeAddress } from './address.ts';
import { CHAIN_FAMILY_RULES, claimMessage, rescaleAmount } from './chain-families.ts';
import { confirmOverride, consentToOverride, proposeOverride, settleExecution } from './override-rules.ts';
import { chainOf, createAction, isUsableRecipient, custodyOf, halt, hubToChainAmount, producerAddress, reserveCustody, setCustody, type NewAction } from './bridge-accounts.ts';
import { cancelWithdrawal, coveredNow, enqueueWithdrawal, releaseCoveredTransfers } from './pending-funds.ts';
import { syncCustody } from './custody-sync-rules.ts';
import { abortTransfer, commitTransfer, linkChannel, prepareTransfer } from './xfer-rules.ts';
import { abortMigration, commitMigration, configureMigration, openMigration, prepareMigration } from './migration-rules.ts';
import type { LedgerState, StateChange } from './state.ts';
import type { SignedTx } from './transaction.ts';
import type { Attestation, DepositAttestation, ExecutionAttestation } from './bridge-bodies.ts';
import {
  keys,
  StateOverlay,
  type ActionRecord,
  type ChainCursor,
  type ChainRecord,
  type ClaimableRecord,
  type CustodyRecord,
  type EventRecord,
  type ReturnVoteRecord,
  type StrayRecord,
  type VoteRecord,
} from './bridge-state.ts';

/** Votes further ahead of the next event id than this are refused (bounded state per listener). */
export const MAX_EVENT_LOOKAHEAD = 10_000n;

type Bridge =
  | 'chain-register' | 'attest' | 'withdraw' | 'approve' | 'cosign' | 'claim-deposit' | 'return-deposit'
  | 'override-propose' | 'override-confirm' | 'override-consent' | 'custody-sync' | 'withdraw-cancel'
  | 'channel-link' | 'xfer-prepare' | 'xfer-commit' | 'xfer-abort'
  | 'migration-config' | 'migrate-prepare' | 'migrate-commit' | 'migrate-abort';

const BRIDGE_RULES: { [T in Bridge]: (o: StateOverlay, tx: SignedTx<T>) => void } = {
  'chain-register': registerChain,
  attest,
  withdraw,
  approve,
  cosign,
  'claim-deposit': claimDeposit,
  'return-deposit': returnDeposit,
  'override-propose': proposeOverride,
  'override-confirm': confirmOverride,
  'override-consent': consentToOverride,
  'custody-sync': syncCustody,
  'withdraw-cancel': cancelWithdrawal,
  'channel-link': linkChannel,
  'xfer-prepare': prepareTransfer,
  'xfer-commit': commitTransfer,
  'xfer-abort': abortTransfer,
  'migration-config': configureMigration,
  'migrate-prepare': prepareMigration,
  'migrate-commit': commitMigration,
  'migrate-abort': abortMigration,
};

export function executeBridgeTx(state: LedgerState, tx: SignedTx<Bridge>): StateChange[] {
  const o = new StateOverlay(state);
  const nonce = useNonce(state, tx);
  (BRIDGE_RULES[tx.type] as (o: StateOverlay, tx: SignedTx<Bridge>) => void)(o, tx);
  releaseCoveredTransfers(o);
  return [...o.changes(), nonce];
}

/** Checks the sender's nonce on the lane; returns the change that consumes it (emitted last). */
export function useNonce(state: LedgerState, tx: SignedTx): StateChange {
  const expected = state.nextNonce(tx.sender, tx.lane);
  if (tx.nonce !== expected) {
    throw new TxRejected('NONCE_MISMATCH', `nonce ${tx.nonce} on lane ${tx.lane}; the next nonce is ${expected}`, { expected: expected.toString(), lane: tx.lane });
  }
  return { kind: 'nonce', address: tx.sender, lane: tx.lane, next: expected + 1n };
}

function registerChain(o: StateOverlay, tx: SignedTx<'chain-register'>): void {
  const b = tx.body;
  if (tx.sender !== producerAddress(o.base)) throw new TxRejected('NOT_AUTHORIZED', 'only the channel producer registers chains');
  if (o.get(keys.chain(b.chain))) throw new TxRejected('CHAIN_EXISTS', `chain "${b.chain}" is already registered`);
  const family = CHAIN_FAMILY_RULES[b.family];
  const custody = family.canonicalAddress(b.custody);
  if (custody !== b.custody) throw new TxRejected('BAD_CHAIN_ADDRESS', 'custody must be given in its canonical form');
  for (const a of [...b.listeners, ...b.approvers]) {
    if (decodeAddress(a, o.base.addressPrefix ?? '').version !== ADDRESS_VERSION_KEY) throw new TxRejected('BAD_ADDRESS', `${a} is not a key address`);
  }
  for (const a of b.assets) {
    if (!o.base.assets.has(a.hubAsset)) throw new TxRejected('UNKNOWN_ASSET', `hub asset "${a.hubAsset}" is not known on this channel`);
    o.set(keys.custody(b.chain, a.hubAsset), { held: '0', pendingOut: '0' } satisfies CustodyRecord);
  }
  o.set(keys.chain(b.chain), b);
  o.set(keys.cursor(b.chain), { nextEventId: '1', nextActionId: '1', halted: null } satisfies ChainCursor);
}

// ------------------------------------------------------------------ attestations

export function attestationDigest(a: Attestation): string {
  return toHex(sha256(canonicalBytes(a)));
}

function attest(o: StateOverlay, tx: SignedTx<'attest'>): void {
  const chain = tx.body.chain;
  const { rec, cursor } = chainOf(o, chain);
  if (!rec.listeners.includes(tx.sender)) throw new TxRejected('NOT_AUTHORIZED', `${tx.sender} is not a listener of ${chain}`);
  if (cursor.halted) throw new TxRejected('CHAIN_HALTED', `chain ${chain} is halted: ${cursor.halted}`);
  const next = BigInt(cursor.nextEventId);
  for (const item of tx.body.items) {
    if (item.custody !== rec.custody) throw new TxRejected('WRONG_CUSTODY', `event ${item.eventId} is not about ${chain}'s custody ${rec.custody}`);
    const id = BigInt(item.eventId);
    if (id < next) continue; // already applied: a late or repeated vote changes nothing
    if (id >= next + MAX_EVENT_LOOKAHEAD) throw new TxRejected('EVENT_TOO_FAR_AHEAD', `event ${id} is too far ahead of ${next}`);
    const digest = attestationDigest(item);
    const votes = o.get<VoteRecord>(keys.votes(chain, id)) ?? { byListener: {}, items: {} };
    const mine = votes.byListener[tx.sender];
    if (mine === digest) continue;
    if (mine !== undefined) throw new TxRejected('CONFLICTING_ATTESTATION', `${tx.sender} already attested a different event ${id}`);
    votes.byListener[tx.sender] = digest;
    votes.items[digest] = item;
    o.set(keys.votes(chain, id), votes);
  }
  applyAgreedEvents(o, chain);
}

/** Applies the next events that have L identical votes, strictly in event-id order. */
function applyAgreedEvents(o: StateOverlay, chain: string): void {
  const { rec } = chainOf(o, chain);
  for (;;) {
    const cursor = chainOf(o, chain).cursor;
    if (cursor.halted) return;
    const id = BigInt(cursor.nextEventId);
    const votes = o.get<VoteRecord>(keys.votes(chain, id));
    if (!votes) return;
    const counts = new Map<string, number>();
    for (const d of Object.values(votes.byListener)) counts.set(d, (counts.get(d) ?? 0) + 1);
    const agreed = [...counts].find(([, n]) => n >= rec.listenerQuorum)?.[0];
    const item = agreed ? votes.items[agreed] : undefined;
    if (!item) return;
    o.delete(keys.votes(chain, id));
    const advanced: ChainCursor = { ...cursor, nextEventId: (id + 1n).toString() };
    o.set(keys.cursor(chain), advanced);
    const event = item.kind === 'deposit' ? applyDeposit(o, rec, item) : applyExecution(o, rec, item);
    o.set(keys.event(chain, id), event);
  }
}

function applyDeposit(o: StateOverlay, rec: ChainRecord, d: DepositAttestation): EventRecord {
  const base = { eventId: d.eventId, kind: 'deposit' as const, txHash: d.txHash, index: d.index };
  const mapping = rec.assets.find((a) => a.chainAsset === d.asset);
  if (!mapping) {
    // Tokens the hub does not know: stray custody, returnable by quorum, never lost.
    o.set(keys.stray(rec.chain, d.eventId), { eventId: d.eventId, chainAsset: d.asset, amount: d.amount, refundTo: d.refundTo, txHash: d.txHash });
    return { ...base, outcome: 'stray', detail: d.asset };
  }
  const hubDecimals = o.base.assets.get(mapping.hubAsset)?.decimals ?? 0;
  const hubAmount = rescaleAmount(BigInt(d.amount), mapping.chainDecimals, hubDecimals);
  const custody = custodyOf(o, rec.chain, mapping.hubAsset);
  if (mapping.mode === 'mint') {
    // A bridged token was burnt on the chain: the hub's lock for that chain shrinks.
    const burnt = hubAmount ?? 0n;
    if (burnt > custody.held) {
      halt(o, rec.chain, `deposit ${d.eventId} burns more ${mapping.hubAsset} than the hub ever minted there`);
      return { ...base, outcome: 'halted', detail: 'burn exceeds the bridged supply' };
    }
    setCustody(o, rec.chain, mapping.hubAsset, { ...custody, held: custody.held - burnt });
  } else if (hubAmount !== null) {
    setCustody(o, rec.chain, mapping.hubAsset, { ...custody, held: custody.held + hubAmount });
  }
  const claimable = (reason: string): EventRecord => {
    // Custody keeps a claimable deposit for its claim or return: reserved, so no withdrawal can take it.
    if (mapping.mode === 'lock') reserveCustody(o, rec.chain, mapping.hubAsset, 'lock', hubAmount ?? 0n);
    o.set(keys.claimable(rec.chain, d.eventId), {
      eventId: d.eventId,
      hubAsset: mapping.hubAsset,
      hubAmount: (hubAmount ?? 0n).toString(),
      refundTo: d.refundTo,
      reason,
      txHash: d.txHash,
    } satisfies ClaimableRecord);
    return { ...base, outcome: 'claimable', detail: reason };
  };
  if (hubAmount === null) {
    // Keep the exact chain amount visible: the hub cannot carry it, so a refund by quorum returns it whole.
    o.set(keys.stray(rec.chain, d.eventId), { eventId: d.eventId, chainAsset: d.asset, amount: d.amount, refundTo: d.refundTo, txHash: d.txHash });
    return { ...base, outcome: 'stray', detail: 'amount not representable on the hub' };
  }
  const migration = mapping.mode === 'lock' ? openMigration(o, rec, d, mapping.hubAsset, hubAmount) : null;
  if (migration) return migration;
  if (!isUsableRecipient(o, d.recipient)) return claimable('the hub recipient is not a valid address of this network');
  const credited = o.balance(d.recipient, mapping.hubAsset) + hubAmount;
  if (credited > MAX_U128) return claimable("the recipient's balance would exceed u128");
  o.setBalance(d.recipient, mapping.hubAsset, credited);
  return { ...base, outcome: 'credited', detail: d.recipient };
}

function applyExecution(o: StateOverlay, rec: ChainRecord, e: ExecutionAttestation): EventRecord {
  const base = { eventId: e.eventId, kind: 'execution' as const, txHash: e.txHash, index: e.index };
  const action = o.get<ActionRecord>(keys.action(rec.chain, e.actionId));
  if (!action || (action.status !== 'signed' && action.status !== 'created')) {
    halt(o, rec.chain, `action ${e.actionId} executed on the chain but the hub has no pending action with that id`);
    return { ...base, outcome: 'halted', detail: `action ${e.actionId}` };
  }
  const settled = settleExecution(o, rec, action, e.payloadHash);
  if (!settled) {
    o.set(keys.action(rec.chain, e.actionId), { ...action, status: 'mismatch', execution: { txHash: e.txHash, payloadHash: e.payloadHash, paid: e.paid, eventId: e.eventId } });
    halt(o, rec.chain, `action ${e.actionId} executed a payload the hub did not sign`);
    return { ...base, outcome: 'halted', detail: `action ${e.actionId}` };
  }
  o.set(keys.action(rec.chain, e.actionId), {
    ...settled,
    status: settled.kind === 'noop' ? 'skipped' : e.paid ? 'executed' : 'claimable-on-chain',
    execution: { txHash: e.txHash, payloadHash: e.payloadHash, paid: e.paid, eventId: e.eventId },
  } satisfies ActionRecord);
  return { ...base, outcome: 'settled', detail: `action ${e.actionId}` };
}

// ------------------------------------------------------------------ withdrawals

function withdraw(o: StateOverlay, tx: SignedTx<'withdraw'>): void {
  const b = tx.body;
  const { rec, cursor } = chainOf(o, b.chain);
  if (cursor.halted) throw new TxRejected('CHAIN_HALTED', `chain ${b.chain} is halted: ${cursor.halted}`);
  const mapping = rec.assets.find((a) => a.hubAsset === b.asset);
  if (!mapping) throw new TxRejected('UNSUPPORTED_ASSET', `asset ${b.asset} cannot be withdrawn to ${b.chain}`);
  const family = CHAIN_FAMILY_RULES[rec.family];
  const recipient = family.canonicalRecipient(b.recipient);
  if (recipient === rec.custody) throw new TxRejected('BAD_CHAIN_ADDRESS', `the custody of ${b.chain} cannot be a withdrawal recipient`);
  const amount = BigInt(b.amount);
  const hubDecimals = o.base.assets.get(b.asset)?.decimals ?? 0;
  const chainAmount = hubToChainAmount(amount, hubDecimals, mapping.chainDecimals, family.maxAmount);
  if (chainAmount === null) {
    throw new TxRejected('UNREPRESENTABLE_AMOUNT', `${b.chain} cannot carry ${amount} base units of ${b.asset} (${mapping.chainDecimals} decimals there, ${hubDecimals} here)`);
  }
  const balance = o.balance(tx.sender, b.asset);
  if (balance < amount) throw new TxRejected('INSUFFICIENT_BALANCE', `balance ${balance} is less than ${amount}`, { balance: balance.toString(), asset: b.asset });
  o.setBalance(tx.sender, b.asset, balance - amount);
  const transfer = { owner: tx.sender, hubAsset: b.asset, hubAmount: amount.toString(), chainAsset: mapping.chainAsset, recipient, chainAmount: chainAmount.toString(), withdrawTx: toHex(tx.id) };
  if (mapping.mode === 'lock' && !coveredNow(o, b.chain, b.asset, amount)) {
    // Custody cannot cover it yet, or earlier transfers still wait: it waits in the FIFO, in arrival order.
    enqueueWithdrawal(o, { chain: b.chain, ...transfer });
    return;
  }
  reserveCustody(o, b.chain, b.asset, mapping.mode, amount);
  createAction(o, b.chain, { kind: mapping.mode === 'mint' ? 'mint' : 'release', ...transfer, returnOf: null });
}

function approve(o: StateOverlay, tx: SignedTx<'approve'>): void {
  const { rec } = chainOf(o, tx.body.chain);
  if (!rec.approvers.includes(tx.sender)) throw new TxRejected('NOT_AUTHORIZED', `${tx.sender} is not an approver of ${rec.chain}`);
  for (const share of tx.body.items) {
    const action = o.get<ActionRecord>(keys.action(rec.chain, share.actionId));
    if (!action) throw new TxRejected('UNKNOWN_ACTION', `${rec.chain} has no action ${share.actionId}`);
    if (action.status !== 'created' || action.approvals[tx.sender]) continue; // late or repeated: nothing to add
    o.set(keys.action(rec.chain, share.actionId), { ...action, approvals: { ...action.approvals, [tx.sender]: share } } satisfies ActionRecord);
  }
}

function cosign(o: StateOverlay, tx: SignedTx<'cosign'>): void {
  if (tx.sender !== producerAddress(o.base)) throw new TxRejected('NOT_AUTHORIZED', 'only the processor co-signs actions');
  const { rec } = chainOf(o, tx.body.chain);
  for (const share of tx.body.items) {
    const action = o.get<ActionRecord>(keys.action(rec.chain, share.actionId));
    if (!action) throw new TxRejected('UNKNOWN_ACTION', `${rec.chain} has no action ${share.actionId}`);
    if (action.status !== 'created') {
      if (action.payloadHash === share.payloadHash) continue;
      throw new TxRejected('ACTION_NOT_PENDING', `action ${share.actionId} is ${action.status}`);
    }
    const agreeing = Object.values(action.approvals).filter((a) => a.payloadHash === share.payloadHash).length;
    if (agreeing < rec.approverQuorum) {
      throw new TxRejected('QUORUM_NOT_REACHED', `action ${share.actionId} has ${agreeing} approvals of this payload; ${rec.approverQuorum} needed`);
    }
    o.set(keys.action(rec.chain, share.actionId), { ...action, status: 'signed', payloadHash: share.payloadHash, processor: share } satisfies ActionRecord);
  }
}

function claimDeposit(o: StateOverlay, tx: SignedTx<'claim-deposit'>): void {
  const b = tx.body;
  const { rec } = chainOf(o, b.chain);
  const claim = o.get<ClaimableRecord>(keys.claimable(b.chain, b.eventId));
  if (!claim) throw new TxRejected('NOTHING_TO_CLAIM', `deposit ${b.eventId} of ${b.chain} is not claimable`);
  const message = claimMessage(tx.network, tx.channel, b.chain, b.eventId, b.to);
  const proof = Buffer.from(b.proof.slice(2), 'hex');
  if (!CHAIN_FAMILY_RULES[rec.family].verifyOwnership(claim.refundTo, message, proof)) {
    throw new TxRejected('BAD_PROOF', `the proof is not a signature of the claim message by the refund address ${claim.refundTo}`);
  }
  const credited = o.balance(b.to, claim.hubAsset) + BigInt(claim.hubAmount);
  if (credited > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', "the recipient's balance would exceed u128");
  o.setBalance(b.to, claim.hubAsset, credited);
  o.delete(keys.claimable(b.chain, b.eventId));
  if (rec.assets.find((a) => a.hubAsset === claim.hubAsset)?.mode === 'lock') {
    // A hub balance now: no longer reserved, so it may cover waiting transfers.
    const c = custodyOf(o, b.chain, claim.hubAsset);
    setCustody(o, b.chain, claim.hubAsset, { held: c.held, pendingOut: c.pendingOut - BigInt(claim.hubAmount) });
  }
  const event = o.get<EventRecord>(keys.event(b.chain, b.eventId));
  if (event) o.set(keys.event(b.chain, b.eventId), { ...event, detail: `claimed by ${b.to}` } satisfies EventRecord);
}

/**
 * An approver's vote to send a claimable deposit (bad hub recipient) or stray custody
 * (unknown token, amount the hub cannot carry) back to the deposit's refund address.
 * The vote that completes the approver quorum turns it into the chain's next action,
 * which then needs M approvals and the processor's co-signature like any withdrawal.
 */
function returnDeposit(o: StateOverlay, tx: SignedTx<'return-deposit'>): void {
  const { chain, eventId } = tx.body;
  const { rec, cursor } = chainOf(o, chain);
  if (!rec.approvers.includes(tx.sender)) throw new TxRejected('NOT_AUTHORIZED', `${tx.sender} is not an approver of ${chain}`);
  if (cursor.halted) throw new TxRejected('CHAIN_HALTED', `chain ${chain} is halted: ${cursor.halted}`);
  const claimable = o.get<ClaimableRecord>(keys.claimable(chain, eventId));
  const stray = o.get<StrayRecord>(keys.stray(chain, eventId));
  if (!claimable && !stray) throw new TxRejected('NOTHING_TO_RETURN', `deposit ${eventId} of ${chain} is neither claimable nor stray`);
  const family = CHAIN_FAMILY_RULES[rec.family];
  const refundTo = family.canonicalRecipient((claimable ?? stray)?.refundTo ?? '');
  const votes = o.get<ReturnVoteRecord>(keys.returnVotes(chain, eventId)) ?? { approvers: [] };
  if (votes.approvers.includes(tx.sender)) throw new TxRejected('ALREADY_VOTED', `${tx.sender} already voted to return deposit ${eventId} of ${chain}`);
  votes.approvers = [...votes.approvers, tx.sender].sort();
  if (votes.approvers.length < rec.approverQuorum) {
    o.set(keys.returnVotes(chain, eventId), votes);
    return;
  }
  // What goes back: a claimable deposit in the hub's terms (custody reserved), stray tokens exactly as they arrived.
  let paid: Pick<NewAction, 'hubAsset' | 'hubAmount' | 'chainAsset' | 'chainAmount'> & { mode: 'lock' | 'mint' | undefined };
  if (claimable) {
    const mapping = rec.assets.find((a) => a.hubAsset === claimable.hubAsset);
    const hubAmount = BigInt(claimable.hubAmount);
    const chainAmount = mapping && hubToChainAmount(hubAmount, o.base.assets.get(claimable.hubAsset)?.decimals ?? 0, mapping.chainDecimals, family.maxAmount);
    if (!mapping || !chainAmount) throw new TxRejected('UNREPRESENTABLE_AMOUNT', `deposit ${eventId} cannot be paid back on ${chain}`);
    if (mapping.mode === 'mint') reserveCustody(o, chain, claimable.hubAsset, mapping.mode, hubAmount); // lock mode: reserved when it became claimable
    paid = { hubAsset: claimable.hubAsset, hubAmount: claimable.hubAmount, chainAsset: mapping.chainAsset, chainAmount: chainAmount.toString(), mode: mapping.mode };
    o.delete(keys.claimable(chain, eventId));
  } else {
    const s = stray as StrayRecord;
    // A bridged token burnt with an amount the hub could not carry is minted back; anything else is released.
    paid = { hubAsset: null, hubAmount: '0', chainAsset: s.chainAsset, chainAmount: s.amount, mode: rec.assets.find((a) => a.chainAsset === s.chainAsset)?.mode };
    o.delete(keys.stray(chain, eventId));
  }
  const { mode, ...amounts } = paid;
  const action: NewAction = {
    ...amounts,
    kind: mode === 'mint' ? 'mint' : 'release',
    owner: null,
    recipient: refundTo,
    withdrawTx: toHex(tx.id),
    returnOf: { source: claimable ? 'claimable' : 'stray', eventId },
  };
  const id = createAction(o, chain, action);
  o.delete(keys.returnVotes(chain, eventId));
  const event = o.get<EventRecord>(keys.event(chain, eventId));
  if (event) o.set(keys.event(chain, eventId), { ...event, detail: `returned to ${refundTo} as action ${id}` } satisfies EventRecord);
}
