/**
 * The hard override of action n (DESIGN.md section 3, issue 5): any approver proposes to skip
 * n (a signed no-op consumes id n, so the original can never execute afterwards) or to
 * replace it (same asset, at most the original amount; another recipient only with the
 * withdrawal owner's consent, itself a hub transaction); approvers confirm; the processor
 * confirms last, which rewrites action n so that approvers sign the new payload. Nothing is
 * refunded or settled here: that happens when listeners attest which payload executed at n
 * (`settleExecution`), the original or its override.
 */
import { TxRejected } from './errors.ts';
import { CHAIN_FAMILY_RULES } from './chain-families.ts';
import type { SignedTx } from './transaction.ts';
import { chainOf, custodyOf, halt, hubToChainAmount, producerAddress, setCustody } from './bridge-accounts.ts';
import { keys, type ActionRecord, type ChainRecord, type OverrideRecord, type StateOverlay } from './bridge-state.ts';
import { MAX_U128 } from './bytes.ts';

/** An action an override may still change: open, and a withdrawal (returns of deposits are not overridable yet). */
function overridableAction(o: StateOverlay, chain: string, actionId: string): ActionRecord {
  const action = o.get<ActionRecord>(keys.action(chain, actionId));
  if (!action) throw new TxRejected('UNKNOWN_ACTION', `${chain} has no action ${actionId}`);
  if (action.status !== 'created' && action.status !== 'signed') {
    throw new TxRejected('ACTION_NOT_PENDING', `action ${actionId} of ${chain} is ${action.status}: it can no longer be overridden`);
  }
  if (action.overridden) throw new TxRejected('ALREADY_OVERRIDDEN', `action ${actionId} of ${chain} was already overridden`);
  if (action.owner === null) throw new TxRejected('OVERRIDE_UNSUPPORTED', `action ${actionId} of ${chain} returns a deposit; only withdrawals can be overridden`);
  return action;
}

export function proposeOverride(o: StateOverlay, tx: SignedTx<'override-propose'>): void {
  const b = tx.body;
  const { rec } = chainOf(o, b.chain);
  if (!rec.approvers.includes(tx.sender)) throw new TxRejected('NOT_AUTHORIZED', `${tx.sender} is not an approver of ${b.chain}`);
  const action = overridableAction(o, b.chain, b.actionId);
  const existing = o.get<OverrideRecord>(keys.override(b.chain, b.actionId));
  if (existing?.status === 'proposed') throw new TxRejected('OVERRIDE_EXISTS', `an override of action ${b.actionId} is already proposed; confirm it or let it lapse`);
  let replacement: OverrideRecord['replacement'] = null;
  if (b.kind === 'replace') {
    if (b.asset !== action.hubAsset) throw new TxRejected('REPLACEMENT_CHANGES_ASSET', `action ${b.actionId} pays ${action.hubAsset}; a replacement keeps the asset`);
    const amount = BigInt(b.amount);
    if (amount > BigInt(action.hubAmount)) throw new TxRejected('REPLACEMENT_RAISES_AMOUNT', `a replacement pays at most the original ${action.hubAmount}, not ${amount}`);
    const recipient = CHAIN_FAMILY_RULES[rec.family].canonicalRecipient(b.recipient);
    if (recipient === rec.custody) throw new TxRejected('BAD_CHAIN_ADDRESS', `the custody of ${b.chain} cannot be a recipient`);
    if (recipient !== action.recipient) {
      const consent = o.get<{ recipient: string }>(keys.overrideConsent(b.chain, b.actionId));
      if (consent?.recipient !== recipient) throw new TxRejected('OWNER_CONSENT_REQUIRED', `paying ${recipient} instead of ${action.recipient} needs an override-consent signed by the owner ${action.owner}`);
    }
    const mapping = rec.assets.find((a) => a.hubAsset === action.hubAsset);
    const chainAmount = mapping ? hubToChainAmount(amount, o.base.assets.get(b.asset)?.decimals ?? 0, mapping.chainDecimals, CHAIN_FAMILY_RULES[rec.family].maxAmount) : null;
    if (chainAmount === null) throw new TxRejected('UNREPRESENTABLE_AMOUNT', `${b.chain} cannot carry ${amount} base units of ${b.asset}`);
    replacement = { recipient, hubAmount: amount.toString(), chainAmount: chainAmount.toString() };
  }
  o.set(keys.override(b.chain, b.actionId), {
    actionId: b.actionId,
    kind: b.kind,
    replacement,
    proposer: tx.sender,
    proposeTx: Buffer.from(tx.id).toString('hex'),
    confirmations: [tx.sender],
    status: 'proposed',
  } satisfies OverrideRecord);
}

export function confirmOverride(o: StateOverlay, tx: SignedTx<'override-confirm'>): void {
  const b = tx.body;
  const { rec } = chainOf(o, b.chain);
  const ov = o.get<OverrideRecord>(keys.override(b.chain, b.actionId));
  if (ov?.status !== 'proposed') throw new TxRejected('NO_OVERRIDE', `no override of action ${b.actionId} of ${b.chain} is waiting for confirmation`);
  const action = overridableAction(o, b.chain, b.actionId);
  if (tx.sender === producerAddress(o.base)) {
    if (ov.confirmations.length < rec.approverQuorum) {
      throw new TxRejected('QUORUM_NOT_REACHED', `the override of action ${b.actionId} has ${ov.confirmations.length} approver confirmations; ${rec.approverQuorum} needed before the processor's`);
    }
    apply(o, rec, action, ov);
    return;
  }
  if (!rec.approvers.includes(tx.sender)) throw new TxRejected('NOT_AUTHORIZED', `${tx.sender} is neither an approver of ${b.chain} nor the processor`);
  if (ov.confirmations.includes(tx.sender)) throw new TxRejected('ALREADY_CONFIRMED', `${tx.sender} already confirmed the override of action ${b.actionId}`);
  o.set(keys.override(b.chain, b.actionId), { ...ov, confirmations: [...ov.confirmations, tx.sender].sort() } satisfies OverrideRecord);
}

/** The withdrawal's owner agrees that a replacement of action n pays `recipient`. */
export function consentToOverride(o: StateOverlay, tx: SignedTx<'override-consent'>): void {
  const b = tx.body;
  const { rec } = chainOf(o, b.chain);
  const action = overridableAction(o, b.chain, b.actionId);
  if (tx.sender !== action.owner) throw new TxRejected('NOT_OWNER', `only the withdrawal's owner ${action.owner} can choose another recipient for action ${b.actionId}`);
  const recipient = CHAIN_FAMILY_RULES[rec.family].canonicalRecipient(b.recipient);
  o.set(keys.overrideConsent(b.chain, b.actionId), { recipient });
}

/** The processor's confirmation: action n becomes the no-op or the replacement, unsigned again. */
function apply(o: StateOverlay, rec: ChainRecord, action: ActionRecord, ov: OverrideRecord): void {
  if (action.kind === 'noop') throw new TxRejected('ALREADY_OVERRIDDEN', `action ${action.actionId} is a no-op`);
  const r = ov.replacement;
  o.set(keys.action(rec.chain, action.actionId), {
    ...action,
    kind: r ? action.kind : 'noop',
    recipient: r ? r.recipient : '',
    hubAmount: r ? r.hubAmount : '0',
    chainAmount: r ? r.chainAmount : '0',
    status: 'created',
    payloadHash: null,
    approvals: {},
    processor: null,
    overridden: {
      override: ov.kind,
      kind: action.kind,
      recipient: action.recipient,
      hubAmount: action.hubAmount,
      chainAmount: action.chainAmount,
      payloadHash: action.status === 'signed' ? action.payloadHash : null,
    },
  } satisfies ActionRecord);
  o.set(keys.override(rec.chain, action.actionId), { ...ov, status: 'applied' } satisfies OverrideRecord);
}

/**
 * Settles action n once its execution is attested: against the payload the hub signed last,
 * or (after an override) against the original, if that is what landed first. Returns null when
 * the payload is neither (the caller halts the chain). Skipped and reduced amounts go back to
 * the owner now, never earlier.
 */
export function settleExecution(o: StateOverlay, rec: ChainRecord, action: ActionRecord, executedPayload: string): ActionRecord | null {
  const original = action.overridden;
  let settled: ActionRecord;
  if (executedPayload === action.payloadHash) settled = action;
  else if (original && original.payloadHash !== null && executedPayload === original.payloadHash) {
    settled = { ...action, kind: original.kind, recipient: original.recipient, hubAmount: original.hubAmount, chainAmount: original.chainAmount, payloadHash: original.payloadHash };
  } else return null;
  const ov = o.get<OverrideRecord>(keys.override(rec.chain, action.actionId));
  if (ov?.status === 'proposed') o.set(keys.override(rec.chain, action.actionId), { ...ov, status: 'moot' } satisfies OverrideRecord);
  if (action.hubAsset === null) return settled; // stray returns pay tokens the hub never accounted
  const reserved = BigInt(original ? original.hubAmount : action.hubAmount);
  const paid = settled.kind === 'noop' ? 0n : BigInt(settled.hubAmount);
  const mapping = rec.assets.find((a) => a.hubAsset === action.hubAsset);
  const c = custodyOf(o, rec.chain, action.hubAsset);
  setCustody(o, rec.chain, action.hubAsset, { held: mapping?.mode === 'mint' ? c.held + paid : c.held - paid, pendingOut: c.pendingOut - reserved });
  const refund = reserved - paid;
  if (refund > 0n && action.owner !== null) {
    const balance = o.balance(action.owner, action.hubAsset) + refund;
    // Never silently lost: a refund that cannot be credited stops the chain for an operator.
    if (balance > MAX_U128) halt(o, rec.chain, `the refund of action ${action.actionId} would overflow ${action.owner}'s balance`);
    else o.setBalance(action.owner, action.hubAsset, balance);
  }
  return settled;
}
