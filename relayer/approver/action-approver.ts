/**
 * ActionApprover: signs withdrawal action n of each chain only after re-deriving it from
 * its OWN verified copy of the hub ledger (HubView): the action exists because the
 * withdrawal transaction it re-executed debited the owner; the destination is a valid
 * address of the chain; the amount is what the hub amount converts to; custody on the
 * chain covers every pending release of the asset. A claimable or stray deposit returned
 * by the approvers' quorum is checked against the deposit's event record instead of a
 * withdrawal. It never reads the processor's API
 * or database for any of that; the hub only receives its approval transaction.
 */
import type { ChainSigner, SignatureShare } from '../../adapters/chain-adapter.ts';
import { keys, readRecord, type ActionRecord, type ChainCursor, type EventRecord } from '../ledger/bridge-state.ts';
import { chunksForTx, MAX_SIGNATURES_PER_TX, type SignatureShareBody } from '../ledger/bridge-bodies.ts';
import type { KlxError } from '../ledger/errors.ts';
import { TypedEmitter, Wakeup } from '../events.ts';
import { RegistrationMismatch, registrationMatches, type ConfiguredChain } from '../bridge/bridge-setup.ts';
import type { HubView } from '../bridge/hub-view.ts';
import { openActions, shareToBody, unsignedOf } from '../bridge/action-records.ts';

export interface ApproverEvents {
  approved: { chain: string; actionIds: string[] };
  refused: { chain: string; actionId: string; reason: string };
  alarm: { chain: string; code: string; message: string };
}

const SENT_GRACE_MS = 30_000;
const sentKey = (chain: string, actionId: string) => `${chain}/${actionId}`;

export class ActionApprover extends TypedEmitter<ApproverEvents> {
  private readonly refusedOnce = new Set<string>();
  /** Per chain: the lowest action id that may still be open. */
  private readonly scanFrom = new Map<string, bigint>();
  /**
   * Approvals the processor acknowledged that the verified copy may not show yet, by
   * `chain/actionId`, with when they were sent: not signed and sent again meanwhile (each
   * repeat is a hub block every role verifies). After SENT_GRACE_MS they are due again.
   */
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly chains: readonly { chain: ConfiguredChain; signer: ChainSigner; lane: number }[],
    private readonly hub: HubView,
  ) {
    super();
  }

  /**
   * Works whenever its verified hub copy grows (what it approves comes in hub blocks), and
   * at least every `idleMs` (approvals sent but not seen yet fall due again by the clock).
   */
  async run(signal: AbortSignal, idleMs = 1_000): Promise<void> {
    const blocks = new Wakeup();
    const ring = () => blocks.ring();
    this.hub.on('block-verified', ring);
    try {
      while (!signal.aborted) {
        const seen = blocks.seen;
        if ((await this.round()) === 0) await blocks.wait(seen, idleMs, signal);
      }
    } finally {
      this.hub.off('block-verified', ring);
    }
  }

  /** One pass over every chain; returns how many actions it approved. */
  private async round(): Promise<number> {
    let worked = 0;
    for (const c of this.chains) {
      try {
        worked += await this.tick(c);
      } catch (e) {
        if (e instanceof RegistrationMismatch) throw e;
        this.emit('alarm', { chain: c.chain.name, code: (e as KlxError).code ?? 'ERROR', message: (e as Error).message });
      }
    }
    return worked;
  }

  /** Approves what is due on one chain; returns how many actions it approved. */
  async tick(c: { chain: ConfiguredChain; signer: ChainSigner; lane: number }): Promise<number> {
    const { chain, signer } = c;
    const state = this.hub.state;
    const registered = registrationMatches(state, chain);
    if (registered === null) return 0;
    if (!registered) throw new RegistrationMismatch(chain.name);
    const cursor = readRecord<ChainCursor>(state, keys.cursor(chain.name));
    if (!cursor || cursor.halted) return 0;
    const { actions: all, firstOpen } = openActions(state, chain.name, this.scanFrom.get(chain.name) ?? 1n);
    this.scanFrom.set(chain.name, firstOpen);
    const now = Date.now();
    for (const [key, at] of this.sent) if (now - at > SENT_GRACE_MS) this.sent.delete(key);
    for (const a of all) {
      if (a.status !== 'created' || a.approvals[this.hub.address]) this.sent.delete(sentKey(chain.name, a.actionId));
    }
    const unapproved = (a: ActionRecord) => a.status === 'created' && !a.approvals[this.hub.address] && !this.sent.has(sentKey(chain.name, a.actionId));
    // Where n + 1 is built against what n leaves on the chain, only the lowest open action is due, once all before it settled.
    const due = chain.adapter.signsAfterPreviousExecuted ? all.slice(0, 1).filter(unapproved) : all.filter(unapproved).slice(0, MAX_SIGNATURES_PER_TX);
    if (due.length === 0) return 0;
    const covered = await this.custodyCover(chain, all);
    // Releases already signed (or approved by us) but not settled will take custody first.
    for (const a of all) {
      if (a.kind !== 'release' || !(a.status === 'signed' || (a.status === 'created' && a.approvals[this.hub.address]))) continue;
      covered.set(a.chainAsset, (covered.get(a.chainAsset) ?? 0n) - BigInt(a.chainAmount));
    }
    const shares: SignatureShareBody[] = [];
    for (const a of due) {
      const reason = this.check(chain, a, covered);
      if (reason) {
        if (!this.refusedOnce.has(`${chain.name}/${a.actionId}/${reason}`)) {
          this.refusedOnce.add(`${chain.name}/${a.actionId}/${reason}`);
          this.emit('refused', { chain: chain.name, actionId: a.actionId, reason });
        }
        continue;
      }
      const context = await this.contextOf(chain, a);
      if (context === null) continue;
      const unsigned = unsignedOf(chain.adapter, a, context);
      const request = chain.adapter.signingRequests(unsigned, []).find((r) => r.role === 'approver');
      if (!request) continue;
      const share: SignatureShare = { signer: signer.address, role: 'approver', round: request.round, signature: signer.sign(request) };
      shares.push(shareToBody(unsigned, share));
    }
    if (shares.length === 0) return 0;
    for (const items of chunksForTx(shares, MAX_SIGNATURES_PER_TX)) {
      await this.hub.submit('approve', { chain: chain.name, items }, c.lane);
      for (const i of items) this.sent.set(sentKey(chain.name, i.actionId), now);
    }
    this.emit('approved', { chain: chain.name, actionIds: shares.map((s) => s.actionId) });
    return shares.length;
  }

  /** The chain state action n is built against, or null while the chain cannot execute it next (asked again next tick). */
  private async contextOf(chain: ConfiguredChain, a: ActionRecord): Promise<string | null> {
    try {
      return await chain.adapter.actionContext(BigInt(a.actionId));
    } catch (e) {
      if ((e as KlxError).code === 'NOT_EXECUTABLE_YET') return null;
      throw e;
    }
  }

  /** Per chain asset: how much of custody's balance at the final block is left once every earlier pending release is paid. */
  private async custodyCover(chain: ConfiguredChain, actions: readonly ActionRecord[]): Promise<Map<string, bigint>> {
    const lockAssets = [...new Set(actions.filter((a) => a.kind === 'release').map((a) => a.chainAsset))];
    if (lockAssets.length === 0) return new Map();
    const { final } = await chain.adapter.head();
    return chain.adapter.custodyBalances(final, lockAssets);
  }

  private check(chain: ConfiguredChain, a: ActionRecord, custody: Map<string, bigint>): string | null {
    const reason = this.payoutProblem(chain, a);
    if (reason) return reason;
    if (a.kind === 'release') {
      const left = custody.get(a.chainAsset) ?? 0n;
      if (left < BigInt(a.chainAmount)) return `custody holds ${left} ${a.chainAsset} after earlier pending releases, less than ${a.chainAmount}`;
      custody.set(a.chainAsset, left - BigInt(a.chainAmount));
    }
    return null;
  }

  /**
   * A withdrawal or a claimable deposit returned by quorum pays a configured asset whose
   * chain amount is the hub amount converted; a stray return pays tokens the hub never
   * accounted (no hub asset), released unless a bridged token was burnt.
   */
  private payoutProblem(chain: ConfiguredChain, a: ActionRecord): string | null {
    // A no-op exists only as the result of a confirmed skip override (rewritten by the hub's rules).
    if (a.kind === 'noop') return a.overridden?.override === 'skip' ? null : 'a no-op that no confirmed skip override created';
    const spec = chain.assets.get(a.chainAsset);
    const stray = a.returnOf?.source === 'stray';
    if ((a.owner === null) !== (a.returnOf !== null)) return 'a payout must have either a hub owner or a returned deposit';
    if (a.returnOf && !this.returnedEvent(chain, a)) return `deposit ${a.returnOf.eventId} is not recorded as returned by this action`;
    if (stray && a.hubAsset !== null) return 'a stray return pays no hub asset';
    if (!stray && (!spec || spec.hubAsset !== a.hubAsset)) return `asset ${a.chainAsset} is not the configured counterpart of ${a.hubAsset}`;
    try {
      if (chain.adapter.validateAddress(a.recipient) !== a.recipient) return 'the recipient is not in canonical form';
      if (!stray && spec && chain.adapter.toChainAmount(spec, BigInt(a.hubAmount)) !== BigInt(a.chainAmount)) return 'the chain amount does not match the hub amount';
    } catch (e) {
      return (e as Error).message;
    }
    const mode = spec?.mode ?? 'lock';
    if ((mode === 'mint') !== (a.kind === 'mint')) return `a ${a.kind} of a ${mode}-mode asset`;
    return null;
  }

  /** The deposit's event record in this approver's own copy names this action as its return. */
  private returnedEvent(chain: ConfiguredChain, a: ActionRecord): boolean {
    if (!a.returnOf) return false;
    const event = readRecord<EventRecord>(this.hub.state, keys.event(chain.name, a.returnOf.eventId));
    const expected = a.returnOf.source;
    return event?.outcome === expected && event.detail === `returned to ${a.recipient} as action ${a.actionId}`;
  }
}
