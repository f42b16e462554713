/**
 * The bridge's signer set as KlxBridge checks it: the processor and a quorum of distinct
 * approvers, each a 65-byte low-s signature over the action's EIP-712 digest. Everything
 * here is pure, so signing requests, share checks and assembly need no RPC.
 */
import { hexToBytes, type Address, type Hex } from 'viem';
import { KlxError } from '../../relayer/ledger/errors.ts';
import type { ChainSigner, SignatureShare, SignedAction, SigningRequest, UnsignedAction } from '../chain-adapter.ts';
import {
  actionToPayload,
  addressOfKey,
  hexOf,
  parseSecretKey,
  recoverSigner,
  signDigest,
  signedFromPayload,
  verifiedAction,
  type EvmAction,
  type EvmDomain,
  type EvmSignedPayload,
} from './evm-codec.ts';

interface ValidShares {
  processor: Uint8Array | undefined;
  approvers: Map<Address, Uint8Array>;
  invalid: number;
}

/** A signed action decoded and checked, ready for `execute`. */
export interface CheckedSignedAction {
  action: EvmAction;
  processorSignature: Hex;
  approverSignatures: Hex[];
}

/** A secp256k1 signing key for EVM actions. The key lives in a closure: the object shows nothing of it. */
export function evmSigner(secret: string): ChainSigner {
  const key = parseSecretKey(secret);
  return {
    address: addressOfKey(key),
    sign(request: SigningRequest): Uint8Array {
      if (request.round !== 0) throw new KlxError('BAD_SIGNING_REQUEST', `EVM actions are signed in round 0 only (asked: round ${request.round})`, false);
      return signDigest(key, request.bytes);
    },
  };
}

export class EvmSignerSet {
  constructor(
    private readonly chain: string,
    private readonly domain: EvmDomain,
    private readonly processor: Address,
    /** In deployment order: assembled signatures come out in a deterministic order. */
    private readonly approvers: readonly Address[],
    private readonly approverQuorum: number,
  ) {}

  requests(unsigned: UnsignedAction, collected: readonly SignatureShare[]): SigningRequest[] {
    const { digest } = verifiedAction(this.chain, this.domain, unsigned, unsigned.payload);
    const valid = this.validShares(digest, collected);
    const requests: SigningRequest[] = [];
    if (!valid.processor) requests.push({ role: 'processor', bytes: hexToBytes(digest), round: 0 });
    for (let n = valid.approvers.size; n < this.approverQuorum; n++) requests.push({ role: 'approver', bytes: hexToBytes(digest), round: 0 });
    return requests;
  }

  verify(unsigned: UnsignedAction, share: SignatureShare): boolean {
    let digest: Hex;
    try {
      digest = verifiedAction(this.chain, this.domain, unsigned, unsigned.payload).digest;
    } catch {
      return false;
    }
    return this.shareSigner(hexToBytes(digest), share) !== null;
  }

  assemble(unsigned: UnsignedAction, shares: readonly SignatureShare[]): SignedAction {
    const { action, digest } = verifiedAction(this.chain, this.domain, unsigned, unsigned.payload);
    const valid = this.validShares(digest, shares);
    if (!valid.processor || valid.approvers.size < this.approverQuorum) {
      const ignored = valid.invalid ? `; ${valid.invalid} invalid share(s) ignored` : '';
      throw new KlxError(
        'INCOMPLETE_SIGNATURES',
        `${this.chain}: action ${action.actionId} needs the processor and ${this.approverQuorum} distinct approvers; ` +
          `have processor: ${valid.processor ? 'yes' : 'no'}, approvers: ${valid.approvers.size}${ignored}`,
        false,
        { chain: this.chain, actionId: action.actionId.toString() },
      );
    }
    const approverSignatures = this.approvers
      .filter((a) => valid.approvers.has(a))
      .slice(0, this.approverQuorum) // more signatures only cost gas
      .map((a) => hexOf(valid.approvers.get(a) as Uint8Array));
    const payload: EvmSignedPayload = { action: actionToPayload(action), processorSignature: hexOf(valid.processor), approverSignatures };
    return { chain: this.chain, actionId: action.actionId, payloadHash: digest, payload };
  }

  /** Decodes a SignedAction and checks what the contract would check, so a doomed transaction is never sent. */
  checkSigned(s: SignedAction): CheckedSignedAction {
    const p = signedFromPayload(this.chain, s.payload);
    const { action, digest } = verifiedAction(this.chain, this.domain, s, p.action);
    const bytes = hexToBytes(digest);
    const bad = (reason: string) =>
      new KlxError('BAD_SIGNATURES', `${this.chain}: action ${action.actionId} would be refused by the bridge: ${reason}`, false, {
        chain: this.chain,
        actionId: action.actionId.toString(),
      });
    if (recoverSigner(bytes, hexToBytes(p.processorSignature)) !== this.processor) throw bad('the processor signature is not by the processor');
    const seen = new Set<Address>();
    for (const sig of p.approverSignatures) {
      const signer = recoverSigner(bytes, hexToBytes(sig));
      if (!signer || !this.approvers.includes(signer)) throw bad('an approver signature is not by a current approver');
      if (seen.has(signer)) throw bad(`approver ${signer} signed twice`);
      seen.add(signer);
    }
    if (seen.size < this.approverQuorum) throw bad(`${seen.size} approver signature(s), the quorum is ${this.approverQuorum}`);
    return { action, processorSignature: p.processorSignature, approverSignatures: p.approverSignatures };
  }

  /** The processor's signature and the distinct member approvers' signatures among `shares`. */
  private validShares(digest: Hex, shares: readonly SignatureShare[]): ValidShares {
    const bytes = hexToBytes(digest);
    const out: ValidShares = { processor: undefined, approvers: new Map(), invalid: 0 };
    for (const share of shares) {
      // Enough for the contract: further shares would only cost recoveries.
      if (out.processor && out.approvers.size >= this.approverQuorum) break;
      const signer = this.shareSigner(bytes, share);
      if (!signer) out.invalid++;
      else if (share.role === 'processor') out.processor ??= share.signature;
      else if (!out.approvers.has(signer)) out.approvers.set(signer, share.signature);
    }
    return out;
  }

  /** The member who made a share, if it is a valid round-0 signature by the claimed signer in the claimed role. */
  private shareSigner(digest: Uint8Array, share: SignatureShare): Address | null {
    if (share.round !== 0 || !(share.signature instanceof Uint8Array) || typeof share.signer !== 'string') return null;
    const recovered = recoverSigner(digest, share.signature);
    if (!recovered || recovered.toLowerCase() !== share.signer.toLowerCase()) return null;
    if (share.role === 'processor') return recovered === this.processor ? recovered : null;
    if (share.role === 'approver') return this.approvers.includes(recovered) ? recovered : null;
    return null;
  }
}
