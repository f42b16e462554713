/**
 * ChainListener: watches one chain's bridge and attests its events to the hub.
 *
 * Each tick: (1) reads the chain's head; unless its final block is still the cursor block,
 * re-checks that every block it attested is still the chain's block at that height — a
 * change halts this chain persistently, until an operator clears it;
 * (2) scans final blocks only (the configured confirmation depth) after its cursor;
 * (3) refuses a gap in event ids; (4) reconciles custody: free custody at the final block
 * should be at least the deposits minus releases seen so far (an alarm if not; read on ticks
 * with events or checkpoints); (5) signs
 * and submits canonical attestations; (6) at checkpoint heights (every `custodySyncBlocks`)
 * attests free custody and that floor for each lock-mode asset, from which the hub credits
 * top-ups to the treasury and halts the chain when custody fell without a withdrawal;
 * (7) advances its SQL cursor only after the hub acknowledged all of it. Attesting the same
 * event or reading twice is harmless (the hub ignores identical repeated votes), so a crash
 * anywhere only repeats work.
 */
import type { BlockRef, ChainEvent } from '../../adapters/chain-adapter.ts';
import type { Attestation } from '../ledger/bridge-bodies.ts';
import { keys, readRecord, type ActionRecord, type ChainCursor, type CustodySyncItem, type CustodySyncRecord, type EventRecord, type VoteRecord } from '../ledger/bridge-state.ts';
import { attestationDigest } from '../ledger/bridge-rules.ts';
import { custodySyncDigest } from '../ledger/custody-sync-rules.ts';
import { KlxError } from '../ledger/errors.ts';
import { chunksForTx, MAX_ATTESTATIONS_PER_TX, MAX_CUSTODY_SYNC_ITEMS } from '../ledger/bridge-bodies.ts';
import { TypedEmitter } from '../events.ts';
import { RegistrationMismatch, registrationMatches, type ConfiguredChain } from '../bridge/bridge-setup.ts';
import type { HubView } from '../bridge/hub-view.ts';
import type { ListenerCursor, ListenerStore } from './listener-store.ts';
import { lowestChangedBlock } from './reorg-search.ts';

export interface ChainListenerEvents {
  attested: { chain: string; count: number; firstEventId: string; lastEventId: string; finalHeight: bigint };
  'custody-synced': { chain: string; height: bigint; assets: number };
  halted: { chain: string; reason: string };
  alarm: { chain: string; code: string; message: string };
}

export class ListenerAlarm extends KlxError {
  constructor(code: string, message: string) {
    super(code, message, true);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How long a listener keeps a moved cursor in memory only, when its ticks record nothing. */
const CURSOR_FLUSH_MS = 2_000;

export interface ChainListenerOptions {
  /** The clock the cursor flush interval is measured with (tests move it by hand). */
  now?: () => number;
  cursorFlushMs?: number;
}

/** Checkpoints attested per tick at most (a listener catching up attests the newest ones only). */
const MAX_SYNCS_PER_TICK = 4;

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
  /**
   * The cursor after the last tick, and when it was last written. A tick that attests or
   * syncs nothing moves only the block position; that is written every `cursorFlushMs`,
   * not every tick (a restart rescans from the written cursor, and its votes the hub
   * already counts are not sent again). Dropped on a halt: the operator's command may
   * re-anchor the stored cursor.
   */
  private memo: { cursor: ListenerCursor; writtenAt: number } | null = null;
  private readonly now: () => number;
  private readonly cursorFlushMs: number;

  constructor(
    private readonly chain: ConfiguredChain,
    private readonly hub: HubView,
    private readonly store: ListenerStore,
    /** The hub lane this chain's attestations use (one lane per chain: chains never wait for each other). */
    private readonly lane: number,
    o: ChainListenerOptions = {},
  ) {
    super();
    this.now = o.now ?? Date.now;
    this.cursorFlushMs = o.cursorFlushMs ?? CURSOR_FLUSH_MS;
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
    // The flag is read when the cursor is due to be written, and before anything is sent
    // (below): quiet ticks of a running listener need not read it.
    const haltRead = this.writeDue(this.now());
    if (haltRead && (await this.haltedNow())) return 0;
    const registered = registrationMatches(this.hub.state, this.chain);
    if (registered === null) return 0; // the hub does not carry the chain yet
    if (!registered) throw new RegistrationMismatch(this.name);
    const cursor = this.memo?.cursor ?? (await this.store.cursor(this.name));
    let final: BlockRef;
    try {
      ({ final } = await adapter.head());
    } catch (e) {
      // A head that cannot be read (a node that lost the final block, say) does not skip the reorg check.
      if (await this.haltOnReorg(cursor?.block ?? null)) return 0;
      throw e;
    }
    // The chain's final block, read just now, is the cursor block itself: so the cursor and
    // every attested block below it are still the chain's, and nothing new is final. A quiet
    // tick costs the head read only (the reorg check would read that same block again).
    if (cursor && final.height === cursor.block.height && final.hash === cursor.block.hash) return 0;
    if (await this.haltOnReorg(cursor?.block ?? null)) return 0;
    if (cursor && final.height <= cursor.block.height) return 0;
    const scanned = await adapter.scan(cursor?.block ?? null, final);
    let expected = cursor?.nextEventId ?? 1n;
    const floor = new Map(Object.entries(cursor?.custodyFloor ?? {}).map(([k, v]) => [k, BigInt(v)]));
    const checkpoints = this.checkpoints(cursor?.block.height ?? -1n, final.height);
    const floorAt = new Map<bigint, Map<string, bigint>>();
    const snapshotUpTo = (height: bigint) => {
      for (const h of checkpoints) if (h < height && !floorAt.has(h)) floorAt.set(h, new Map(floor));
    };
    const events: ChainEvent[] = [];
    for (const e of scanned) {
      snapshotUpTo(e.block.height);
      // Families without a chain-side counter are numbered here, in the adapter's canonical order over final
      // blocks: every listener numbers the same sequence from 1 identically, whatever its scan ranges.
      if (e.eventId !== null && e.eventId !== expected) {
        throw new ListenerAlarm('EVENT_GAP', `${this.name}: expected event ${expected}, the chain shows ${e.eventId} (tx ${e.txHash}): refusing to attest past a gap`);
      }
      events.push(e.eventId === null ? { ...e, eventId: expected } : e);
      expected++;
      this.accountCustody(floor, e);
    }
    snapshotUpTo(final.height + 1n);
    // Custody only moves against the floor through events; a fall without one is what the
    // checkpoint syncs catch (and the hub halts on), so quiet ticks skip the balance reads.
    if (events.length > 0 || checkpoints.length > 0) await this.reconcileCustody(final, floor);
    const items = events.map(toAttestation);
    const applied = BigInt(readRecord<ChainCursor>(this.hub.state, keys.cursor(this.name))?.nextEventId ?? '0');
    const votes = items.filter((item) => !this.hubCounts(applied, item));
    if (!haltRead && (votes.length > 0 || checkpoints.length > 0) && (await this.haltedNow())) return 0;
    for (const chunk of chunksForTx(votes, MAX_ATTESTATIONS_PER_TX)) {
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
    const synced = await this.syncCustody(floorAt);
    if (synced === null) return 0;
    const blocks = new Map<string, BlockRef>();
    for (const b of synced) blocks.set(b.height.toString(), b);
    for (const e of events) blocks.set(e.block.height.toString(), e.block);
    blocks.set(final.height.toString(), final); // one row per height: the final block may hold events too
    const moved: ListenerCursor = { block: final, nextEventId: expected, custodyFloor: Object.fromEntries([...floor].map(([k, v]) => [k, v.toString()])) };
    const now = this.now();
    if (events.length > 0 || synced.length > 0 || this.writeDue(now)) {
      await this.store.advance(this.name, moved, [...blocks.values()]);
      this.memo = { cursor: moved, writtenAt: now };
    } else {
      this.memo = { cursor: moved, writtenAt: this.memo?.writtenAt ?? now };
    }
    if (votes.length > 0) {
      this.emit('attested', { chain: this.name, count: votes.length, firstEventId: votes[0]?.eventId ?? '', lastEventId: votes[votes.length - 1]?.eventId ?? '', finalHeight: final.height });
    }
    return votes.length;
  }

  /** Halts this chain, persistently, if a block it attested (or its cursor block) changed; says whether it did. */
  private async haltOnReorg(cursorBlock: BlockRef | null): Promise<boolean> {
    const changed = await this.changedAttestedBlock(cursorBlock);
    if (!changed) return false;
    const reason = `block ${changed.height} (${changed.hash}) changed after it was attested: reorganisation beyond the confirmation depth`;
    await this.store.halt(this.name, reason, changed.height);
    this.memo = null;
    this.emit('halted', { chain: this.name, reason });
    return true;
  }

  /** Whether the cursor is due to be written (and the halt flag to be read). */
  private writeDue(now: number): boolean {
    return !this.memo || now - this.memo.writtenAt >= this.cursorFlushMs;
  }

  /** Reads the halt flag; a halted listener forgets its cursor (the operator may re-anchor it). */
  private async haltedNow(): Promise<boolean> {
    if (!(await this.store.halted(this.name))) return false;
    this.memo = null;
    return true;
  }

  /**
   * Whether the verified hub copy already counts this vote: the event is applied (below
   * the copy's `nextEventId`), or this
   * listener's identical vote is recorded. The hub would ignore it, but only after making
   * a block of it (a late vote, or a repeat after a tick failed past its submission); the
   * copy can only lag the hub, so a vote it does not show is sent.
   */
  private hubCounts(nextEventId: bigint, item: Attestation): boolean {
    const id = BigInt(item.eventId);
    if (id < nextEventId) return true;
    return readRecord<VoteRecord>(this.hub.state, keys.votes(this.name, id))?.byListener[this.hub.address] === attestationDigest(item);
  }

  /**
   * The lowest attested block (or the cursor block) the chain no longer has, or null. Blocks
   * are hash-linked: while the newest one we recorded is unchanged, so is everything below
   * it, so one read per tick suffices. When it changed, the lowest change is named (see
   * reorg-search.ts): clearing the halt forgets what was attested from its height up.
   */
  private async changedAttestedBlock(cursorBlock: BlockRef | null): Promise<BlockRef | null> {
    const { adapter } = this.chain;
    // The cursor block is the final block of the last round, at or above every attested block.
    if (cursorBlock && (await adapter.checkReorg([cursorBlock])) === null) return null;
    try {
      return (await lowestChangedBlock(adapter, await this.store.attestedBlocks(this.name))) ?? cursorBlock;
    } catch {
      // The cursor changed: halt now, at its height; listener-clear-halt looks for the lowest change again.
      return cursorBlock;
    }
  }

  /** Deposits raise, paid releases lower, what custody must at least hold (mint-mode assets are burnt/minted, not held). */
  private accountCustody(floor: Map<string, bigint>, e: ChainEvent): void {
    if (e.kind === 'deposit') {
      if (this.chain.assets.get(e.asset)?.mode === 'mint') return;
      floor.set(e.asset, (floor.get(e.asset) ?? 0n) + e.amount);
      return;
    }
    // Paid or deferred (claimable on the chain, which free custody excludes): it left the bridge's free custody.
    const action = readRecord<ActionRecord>(this.hub.state, keys.action(this.name, e.actionId));
    // The co-signature fixes the payload: until this copy shows it, the release cannot be accounted (retry, never guess).
    if (!action || action.payloadHash === null) throw new ListenerAlarm('HUB_COPY_LAGGING', `${this.name}: action ${e.actionId} is not co-signed in the verified hub copy yet`);
    if (action.kind !== 'release' || action.payloadHash !== e.payloadHash) return; // the hub judges mismatches; nothing left custody for a mint
    floor.set(action.chainAsset, (floor.get(action.chainAsset) ?? 0n) - BigInt(action.chainAmount));
  }

  /** An alarm when free custody at the final block is below what deposits and releases leave; the hub halts the chain on the listeners' sync. */
  private async reconcileCustody(at: BlockRef, floor: Map<string, bigint>): Promise<void> {
    const assets = [...floor.keys()].filter((a) => this.chain.assets.get(a)?.mode !== 'mint');
    if (assets.length === 0) return;
    const balances = await this.chain.adapter.custodyBalances(at, assets);
    for (const asset of assets) {
      const held = balances.get(asset) ?? 0n;
      const min = floor.get(asset) ?? 0n;
      if (held < min) {
        const message = `custody of ${asset} holds ${held} at block ${at.height}, less than the ${min} that attested deposits and releases leave`;
        this.emit('alarm', { chain: this.name, code: 'CUSTODY_SHORTFALL', message });
      }
    }
  }

  /** Checkpoint heights in (after, upTo]: multiples of custodySyncBlocks, the newest MAX_SYNCS_PER_TICK. */
  private checkpoints(after: bigint, upTo: bigint): bigint[] {
    const every = BigInt(this.chain.custodySyncBlocks);
    const out: bigint[] = [];
    for (let h = (upTo / every) * every; h > after && h >= 0n && out.length < MAX_SYNCS_PER_TICK; h -= every) out.unshift(h);
    return out;
  }

  /**
   * Attests free custody and the floor at each checkpoint for every lock-mode asset; returns
   * the checkpoint blocks (so that a reorg of one is detected like any attested block), or
   * null when the hub has halted the chain.
   */
  private async syncCustody(floorAt: Map<bigint, Map<string, bigint>>): Promise<BlockRef[] | null> {
    const assets = [...this.chain.assets.values()].filter((a) => a.mode === 'lock');
    if (assets.length === 0 || floorAt.size === 0) return [];
    const items: CustodySyncItem[] = [];
    const blocks: BlockRef[] = [];
    // The hub copy's sync record per asset, read once for every checkpoint of this tick.
    const synced = new Map(assets.map((a) => [a.hubAsset, readRecord<CustodySyncRecord>(this.hub.state, keys.custodySync(this.name, a.hubAsset))]));
    for (const [height, floor] of floorAt) {
      const block = await this.chain.adapter.blockAt(height);
      if (!block) continue; // no block at that height (a skipped slot): every listener skips it alike
      const balances = await this.chain.adapter.custodyBalances(block, assets.map((a) => a.chainAsset));
      blocks.push(block);
      for (const a of assets) {
        const item = { asset: a.chainAsset, blockHeight: height.toString(), blockHash: block.hash, balance: (balances.get(a.chainAsset) ?? 0n).toString(), floor: (floor.get(a.chainAsset) ?? 0n).toString() };
        this.warnOnDecrease(synced.get(a.hubAsset), item);
        if (!this.hubCountsSync(synced.get(a.hubAsset), item)) items.push(item);
      }
    }
    for (const chunk of chunksForTx(items, MAX_CUSTODY_SYNC_ITEMS)) {
      try {
        await this.hub.submit('custody-sync', { chain: this.name, items: chunk }, this.lane);
      } catch (e) {
        if ((e as KlxError).code !== 'CHAIN_HALTED') throw e;
        this.emit('alarm', { chain: this.name, code: 'CHAIN_HALTED', message: (e as Error).message });
        return null;
      }
    }
    const last = blocks[blocks.length - 1];
    if (last) this.emit('custody-synced', { chain: this.name, height: last.height, assets: assets.length });
    return blocks;
  }

  /** As hubCounts, for a custody reading: the hub synced past its height, or holds this listener's identical vote. */
  private hubCountsSync(synced: CustodySyncRecord | undefined, item: CustodySyncItem): boolean {
    if (!synced) return false;
    if (BigInt(item.blockHeight) <= BigInt(synced.height)) return true;
    return synced.votes[item.blockHeight]?.byListener[this.hub.address] === custodySyncDigest(item);
  }

  private warnOnDecrease(synced: CustodySyncRecord | undefined, item: CustodySyncItem): void {
    const surplus = BigInt(item.balance) - BigInt(item.floor);
    if (synced && surplus < BigInt(synced.surplus)) {
      const message = `custody of ${item.asset} at block ${item.blockHeight} is ${BigInt(synced.surplus) - surplus} base units below what deposits, releases and top-ups explain: attesting it halts the chain`;
      this.emit('alarm', { chain: this.name, code: 'CUSTODY_DECREASE', message });
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
