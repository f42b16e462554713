/** Turning hub action records into chain actions and shares (shared by approver, processor and submitter). */
import type { ChainAdapter, SignatureShare, SignedAction, UnsignedAction } from '../../adapters/chain-adapter.ts';
import type { ActionRecord } from '../ledger/bridge-state.ts';
import type { SignatureShareBody } from '../ledger/bridge-bodies.ts';

export function unsignedOf(adapter: ChainAdapter, a: ActionRecord): UnsignedAction {
  return adapter.buildAction({ actionId: BigInt(a.actionId), kind: a.kind, asset: a.chainAsset, recipient: a.recipient, amount: BigInt(a.chainAmount) });
}

export function shareFromBody(s: SignatureShareBody, role: 'processor' | 'approver'): SignatureShare {
  return { signer: s.signer, role, round: 0, signature: Buffer.from(s.signature.slice(2), 'hex') };
}

export function shareToBody(actionId: bigint, payloadHash: string, s: SignatureShare): SignatureShareBody {
  return { actionId: actionId.toString(), payloadHash, signer: s.signer, signature: `0x${Buffer.from(s.signature).toString('hex')}` };
}

/** Approver shares of the payload the hub records that verify against the chain's signer set. */
export function validApproverShares(adapter: ChainAdapter, unsigned: UnsignedAction, a: ActionRecord): SignatureShare[] {
  return Object.values(a.approvals)
    .filter((s) => s.payloadHash === unsigned.payloadHash)
    .map((s) => shareFromBody(s, 'approver'))
    .filter((s) => adapter.verifyShare(unsigned, s));
}

/** The fully signed action of a hub record in status 'signed' (processor + approvals). */
export function signedOf(adapter: ChainAdapter, a: ActionRecord): SignedAction {
  const unsigned = unsignedOf(adapter, a);
  if (!a.processor) throw new Error(`action ${a.actionId} has no processor signature`);
  return adapter.assemble(unsigned, [shareFromBody(a.processor, 'processor'), ...validApproverShares(adapter, unsigned, a)]);
}
