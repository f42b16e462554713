/**
 * ChainListener: watches one chain's bridge and attests its events to the hub.
 *
 * Each tick: (1) re-checks that every block it attested is still the chain's block at
 * that height — a change halts this chain persistently, until an operator clears it;
 * (2) scans final blocks only (the configured confirmation depth) after its cursor;
 * (3) refuses a gap in event ids; (4) reconciles custody: the custody balance at the
 * final block must be at least the deposits minus paid releases seen so far; (5) signs
 * and submits canonical attestations; (6) advances its SQL cursor only after the hub
 * acknowledged them. Attesting the same event twice is harmless (the hub ignores
 * identical repeated votes), so a crash anywhere only repeats work.
 */
import type { BlockRef, ChainEvent } from '../../adapters/chain-adapter.ts';
import type { Attestation } from '../ledger/bridge-bodies.ts';
import { keys, readRecord, type ActionRecord, type ChainCursor, type EventRecord } from '../ledger/bridge-state.ts';
import { KlxError } from '../ledger/errors.ts';
import { chunksForTx, MAX_ATTESTATIONS_PER_TX } from '../ledger/bridge-bodies.ts';
import { TypedEmitter } from '../events.ts';
import { RegistrationMismatch, registrationMatches, type ConfiguredChain } from '../bridge/bridge-setup.ts';
import type { HubView } from '../bridge/hub-view.ts';
import type { ListenerStore } from './listener-store.ts';

export interface ChainListenerEvents {
  attested: { chain: string; count: number; firstEventId: string; lastEventId: string; finalHeight: bigint };
  halted: { chain: string; reason: string };
  alarm: { chain: string; code: string; message: string };
}

export class ListenerAlarm extends KlxError {
  constructor(code: string, message: string) {
    super(code, message, true);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function toAttestation(e: ChainEvent): Attestation {
  const base = {
    eventId: (e.eventId ?? 0n).toString(), // numbered by the listener before it gets here
    custody: e.custody,
    txHash: e.txHash,
    index: e.index,
    blockHeight: e.block.height.toString(),
    blockHash: e.block.hash,
  };
  if (e.kind === 'deposit') {
    return { kind: 'deposit', ...base, asset: e.asset, amount: e.amount.toString(), recipient: e.hubRecipient.slice(0, 128), refundTo: e.refundTo };
  }
  return { kind: 'execution', ...base, actionId: e.actionId.toString(), payloadHash: e.payloadHash, paid: e.paid };
}

export class ChainListener extends TypedEmitter<ChainListenerEvents> {
  constructor(
    private readonly chain: ConfiguredChain,
    private readonly hub: HubView,
    private readonly store: ListenerStore,
    /** The hub lane this chain's attestations use (one lane per chain: chains never wait for each other). */
    private readonly lane: number,
  ) {
    super();
  }

  get name(): string {
    return this.chain.name;
  }

  async run(signal: AbortSignal, pollMs = 200): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (e) {
        if (e instanceof RegistrationMismatch) throw e;
        const err = e as KlxError;
        this.emit('alarm', { chain: this.name, code: err.code ?? 'ERROR', message: err.message });
      }
      await sleep(pollMs);
    }
  }

  /** One round of work; returns how many events it attested. */
  async tick(): Promise<number> {
    const { adapter } = this.chain;
    if (await this.store.halted(this.name)) return 0;
    const registered = registrationMatches(this.hub.state, this.chain);
    if (registered === null) return 0; // the hub does not carry the chain yet
    if (!registered) throw new RegistrationMismatch(this.name);
    const cursor = await this.store.cursor(this.name);
    const changed = await this.changedAttestedBlock(cursor?.block ?? null);
    if (changed) {
      const reason = `block ${changed.height} (${changed.hash}) changed after it was attested: reorganisation beyond the confirmation depth`;
      await this.store.halt(this.name, reason, changed.height);
      this.emit('halted', { chain: this.name, reason });
      return 0;
    }
    const { final } = await adapter.head();
    if (cursor && final.height <= cursor.block.height) return 0;
    const scanned = await adapter.scan(cursor?.block ?? null, final);
    let expected = cursor?.nextEventId ?? 1n;
    const floor = new Map(Object.entries(cursor?.custodyFloor ?? {}).map(([k, v]) => [k, BigInt(v)]));
    const events: ChainEvent[] = [];
    for (const e of scanned) {
      // Families without a chain-side counter are numbered here, in the adapter's canonical order over final
      // blocks: every listener numbers the same sequence from 1 identically, whatever its scan ranges.
      if (e.eventId !== null && e.eventId !== expected) {
        throw new ListenerAlarm('EVENT_GAP', `${this.name}: expected event ${expected}, the chain shows ${e.eventId} (tx ${e.txHash}): refusing to attest past a gap`);
      }
      events.push(e.eventId === null ? { ...e, eventId: expected } : e);
      expected++;
      this.accountCustody(floor, e);
    }
    await this.reconcileCustody(final, floor);
    const items = events.map(toAttestation);
    for (const chunk of chunksForTx(items, MAX_ATTESTATIONS_PER_TX)) {
      try {
        await this.hub.submit('attest', { chain: this.name, items: chunk }, this.lane);
      } catch (e) {
        if ((e as KlxError).code === 'CHAIN_HALTED') {
          this.emit('alarm', { chain: this.name, code: 'CHAIN_HALTED', message: (e as Error).message });
          return 0;
        }
        throw e;
      }
    }
    const blocks = new Map<string, BlockRef>();
    for (const e of events) blocks.set(e.block.height.toString(), e.block);
    blocks.set(final.height.toString(), final); // one row per height: the final block may hold events too
    await this.store.advance(this.name, { block: final, nextEventId: expected, custodyFloor: Object.fromEntries([...floor].map(([k, v]) => [k, v.toString()])) }, [...blocks.values()]);
    if (items.length > 0) {
      this.emit('attested', { chain: this.name, count: items.length, firstEventId: items[0]?.eventId ?? '', lastEventId: items[items.length - 1]?.eventId ?? '', finalHeight: final.height });
    }
    return items.length;
  }

  /**
   * The attested block (or cursor block) the chain no longer has, or null. Blocks are
   * hash-linked: while the newest one we recorded is unchanged, so is everything below it,
   * so one read per tick suffices; the full list is read only to name what changed.
   */
  private async changedAttestedBlock(cursorBlock: BlockRef | null): Promise<BlockRef | null> {
    const { adapter } = this.chain;
    // The cursor block is the final block of the last round, at or above every attested block.
    if (cursorBlock && (await adapter.checkReorg([cursorBlock])) === null) return null;
    const attested = await this.store.attestedBlocks(this.name);
    const all = cursorBlock ? [cursorBlock, ...attested] : attested;
    return all.length === 0 ? null : ((await adapter.checkReorg(all)) ?? cursorBlock);
  }

  /** Deposits raise, paid releases lower, what custody must at least hold (mint-mode assets are burnt/minted, not held). */
  private accountCustody(floor: Map<string, bigint>, e: ChainEvent): void {
    if (e.kind === 'deposit') {
      if (this.chain.assets.get(e.asset)?.mode === 'mint') return;
      floor.set(e.asset, (floor.get(e.asset) ?? 0n) + e.amount);
      return;
    }
    if (!e.paid) return; // an unpaid payout stays in custody, claimable on the chain
    const action = readRecord<ActionRecord>(this.hub.state, keys.action(this.name, e.actionId));
    // The co-signature fixes the payload: until this copy shows it, the release cannot be accounted (retry, never guess).
    if (!action || action.payloadHash === null) throw new ListenerAlarm('HUB_COPY_LAGGING', `${this.name}: action ${e.actionId} is not co-signed in the verified hub copy yet`);
    if (action.kind !== 'release' || action.payloadHash !== e.payloadHash) return; // the hub judges mismatches; nothing left custody for a mint
    floor.set(action.chainAsset, (floor.get(action.chainAsset) ?? 0n) - BigInt(action.chainAmount));
  }

  private async reconcileCustody(at: BlockRef, floor: Map<string, bigint>): Promise<void> {
    const assets = [...floor.keys()];
    if (assets.length === 0) return;
    const balances = await this.chain.adapter.custodyBalances(at, assets);
    for (const asset of assets) {
      const held = balances.get(asset) ?? 0n;
      const min = floor.get(asset) ?? 0n;
      if (held < min) {
        const reason = `custody of ${asset} holds ${held} at block ${at.height}, less than the ${min} that attested deposits and releases leave`;
        await this.store.halt(this.name, reason, at.height);
        this.emit('halted', { chain: this.name, reason });
        throw new ListenerAlarm('CUSTODY_SHORTFALL', reason);
      }
    }
  }

  /** Operator re-examination of one transaction: what the chain shows, what the hub recorded, and attests it if due. */
  async reobserve(txHash: string): Promise<{ eventId: string; kind: string; final: boolean; hub: string; attested: boolean }[]> {
    const { adapter } = this.chain;
    const events = await adapter.eventsOfTx(txHash);
    const { final } = await adapter.head();
    const cursor = readRecord<ChainCursor>(this.hub.state, keys.cursor(this.name));
    const out = [];
    for (const e of events) {
      const isFinal = e.block.height <= final.height && (await adapter.checkReorg([e.block])) === null;
      // A hub-numbered event has no id of its own: the regular scan attests it; here it is only reported.
      const recorded = e.eventId === null ? undefined : readRecord<EventRecord>(this.hub.state, keys.event(this.name, e.eventId));
      const pending = !recorded && cursor !== undefined && e.eventId !== null && e.eventId >= BigInt(cursor.nextEventId);
      let attested = false;
      if (isFinal && pending) {
        await this.hub.submit('attest', { chain: this.name, items: [toAttestation(e)] }, this.lane);
        attested = true;
      }
      out.push({ eventId: String(e.eventId), kind: e.kind, final: isFinal, hub: recorded ? `${recorded.outcome}: ${recorded.detail}` : 'not applied yet', attested });
    }
    return out;
  }
}
