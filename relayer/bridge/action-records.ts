/** Turning hub action records into chain actions and shares (shared by approver, processor and submitter). */
import type { ChainAdapter, SignatureShare, SignedAction, SigningRequest, UnsignedAction } from '../../adapters/chain-adapter.ts';
import { keys, readRecord, type ActionRecord, type ChainCursor } from '../ledger/bridge-state.ts';
import type { LedgerState } from '../ledger/state.ts';
import type { SignatureShareBody } from '../ledger/bridge-bodies.ts';

/** Action n in chain terms, built against `context` (default: the context the processor co-signed, or none). */
export function unsignedOf(adapter: ChainAdapter, a: ActionRecord, context = a.processor?.context ?? ''): UnsignedAction {
  return adapter.buildAction({ actionId: BigInt(a.actionId), kind: a.kind, asset: a.chainAsset, recipient: a.recipient, amount: BigInt(a.chainAmount), context });
}

/** The distinct contexts the approvals of an action were built against (one, unless the chain moved between them). */
export function approvalContexts(a: ActionRecord): string[] {
  return [...new Set(Object.values(a.approvals).map((s) => s.context ?? ''))];
}

export function shareFromBody(s: SignatureShareBody, role: 'processor' | 'approver'): SignatureShare {
  return { signer: s.signer, role, round: 0, signature: Buffer.from(s.signature.slice(2), 'hex') };
}

export function shareToBody(unsigned: UnsignedAction, s: SignatureShare): SignatureShareBody {
  const body: SignatureShareBody = { actionId: unsigned.actionId.toString(), payloadHash: unsigned.payloadHash, signer: s.signer, signature: `0x${Buffer.from(s.signature).toString('hex')}` };
  return unsigned.context === '' ? body : { ...body, context: unsigned.context };
}

/**
 * Whether at least `quorum` approvals made in `context` name one payload hash: without
 * that no derivation can reach the quorum, so the costly part (building the action and
 * recovering signers) is skipped for actions still collecting approvals.
 */
export function mayHaveQuorum(a: ActionRecord, context: string, quorum: number): boolean {
  const counts = new Map<string, number>();
  for (const s of Object.values(a.approvals)) {
    if ((s.context ?? '') !== context) continue;
    const n = (counts.get(s.payloadHash) ?? 0) + 1;
    if (n >= quorum) return true;
    counts.set(s.payloadHash, n);
  }
  return false;
}

/**
 * Approver shares of the payload the hub records that verify against the chain's signer
 * set, in the record's order. With `enough`, it stops once that many verified: each check
 * may cost a signature recovery, and most actions are co-signed with every approval in.
 */
export function validApproverShares(adapter: ChainAdapter, unsigned: UnsignedAction, a: ActionRecord, enough = Infinity): SignatureShare[] {
  const valid: SignatureShare[] = [];
  for (const body of Object.values(a.approvals)) {
    if (valid.length >= enough) break;
    if (body.payloadHash !== unsigned.payloadHash) continue;
    const share = shareFromBody(body, 'approver');
    if (adapter.verifyShare(unsigned, share)) valid.push(share);
  }
  return valid;
}

/**
 * What the processor signs for `unsigned`, or undefined while the approvals recorded for it
 * do not make a quorum in the chain's own judgement. The first `quorum` valid shares nearly
 * always do; every valid share is tried only when they do not. The adapter, not a count of
 * shares, decides: the hub does not tie a share's chain signer to the approver who sent it,
 * so an approver may repeat another's valid share (in any spelling of its address), and the
 * chain counts that signer once.
 */
export function processorRequestFor(adapter: ChainAdapter, unsigned: UnsignedAction, a: ActionRecord, quorum: number): SigningRequest | undefined {
  const complete = (shares: SignatureShare[]) => {
    const requests = adapter.signingRequests(unsigned, shares);
    return requests.some((r) => r.role === 'approver') ? undefined : requests.find((r) => r.role === 'processor');
  };
  const first = validApproverShares(adapter, unsigned, a, quorum);
  if (first.length < quorum) return undefined;
  return complete(first) ?? complete(validApproverShares(adapter, unsigned, a));
}

/** The fully signed action of a hub record in status 'signed' (processor + approvals). */
export function signedOf(adapter: ChainAdapter, a: ActionRecord): SignedAction {
  const unsigned = unsignedOf(adapter, a);
  if (!a.processor) throw new Error(`action ${a.actionId} has no processor signature`);
  // The adapter checks every share it uses (and ignores invalid ones).
  const approvals = Object.values(a.approvals).filter((s) => s.payloadHash === unsigned.payloadHash).map((s) => shareFromBody(s, 'approver'));
  return adapter.assemble(unsigned, [shareFromBody(a.processor, 'processor'), ...approvals]);
}

/**
 * The open (created or signed) actions of a chain, in id order, reading only ids from
 * `from` up to the hub's next action id, and the first id still open (the caller's next
 * `from`): settled actions are never read again, so a tick costs O(open actions).
 */
export function openActions(state: LedgerState, chain: string, from: bigint): { actions: ActionRecord[]; firstOpen: bigint } {
  const next = BigInt(readRecord<ChainCursor>(state, keys.cursor(chain))?.nextActionId ?? '1');
  const actions: ActionRecord[] = [];
  let firstOpen = next;
  for (let id = from; id < next; id++) {
    const a = readRecord<ActionRecord>(state, keys.action(chain, id));
    if (!a || (a.status !== 'created' && a.status !== 'signed')) continue;
    if (firstOpen === next) firstOpen = id;
    actions.push(a);
  }
  return { actions, firstOpen };
}
