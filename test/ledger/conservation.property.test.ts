/**
 * Property (issue 5, DESIGN.md section 5 invariants 1 and 3): random interleavings of
 * deposits (some with a bad hub recipient), withdrawals, executions landing and being
 * attested later, custody top-ups and their syncs, cancels and returns of claimable deposits,
 * across two assets. After every block:
 *  - each FIFO releases in arrival order: among the non-cancelled withdrawals of an asset, the
 *    ones that became actions are a prefix of the arrival order, with ascending action ids;
 *  - conservation per asset, with custody read from the model chain (never from the hub's
 *    counters): hub balances − genesis supply + waiting transfers + open actions + claimable
 *    deposits = custody − executions not yet attested + deposits not yet applied − top-ups not
 *    yet synced;
 *  - no release ever exceeds what the chain's custody holds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { treasuryAddress } from '../../relayer/ledger/custody-sync-rules.ts';
import { keys, type ActionRecord, type ClaimableRecord, type CustodySyncRecord, type PendingTransfer } from '../../relayer/ledger/bridge-state.ts';
import type { Attestation } from '../../relayer/ledger/bridge-bodies.ts';
import type { TxBodies } from '../../relayer/ledger/tx-bodies.ts';
import type { SignedTx } from '../../relayer/ledger/transaction.ts';
import { PREFIX, user, type TestUser } from '../helpers/channel.ts';
import { CUSTODY, KLX_SCALE, KLX_TOKEN, LedgerBridge, RECIPIENT } from '../helpers/ledger-bridge.ts';

const users = [0, 1, 2].map((i) => user(`cons-user-${i}`)) as [TestUser, TestUser, TestUser];
const GENESIS = 20n * 10n ** 9n; // per user and hub asset, backed by other chains
const ASSETS = [
  { hub: 'KLX', chain: KLX_TOKEN, scale: KLX_SCALE, unit: 10n ** 9n },
  { hub: 'ETH', chain: 'native', scale: 1n, unit: 10n ** 9n },
] as const;
type Asset = (typeof ASSETS)[number];

/** The chain as the bridge contract would see it, kept apart from the hub. */
interface ChainEventModel {
  eventId: bigint;
  asset: string;
  /** Chain units this event moved into (+) or out of (−) custody. */
  delta: bigint;
  attestation: Attestation;
  attested: boolean;
}

class Scenario {
  readonly b = new LedgerBridge(users, GENESIS);
  readonly custody = new Map<string, bigint>(ASSETS.map((a) => [a.chain, 0n]));
  readonly floor = new Map<string, bigint>(ASSETS.map((a) => [a.chain, 0n]));
  readonly topUps = new Map<string, bigint>(ASSETS.map((a) => [a.chain, 0n]));
  readonly events: ChainEventModel[] = [];
  /** Per hub asset: withdrawal tx ids in arrival order. */
  readonly arrivals = new Map<string, string[]>(ASSETS.map((a) => [a.hub, []]));
  readonly claimableIds: string[] = [];
  private landed = 0n;
  private syncHeight = 0n;

  constructor() {
    // Every block is checked: wrap the fixture's append.
    const append = this.b.append.bind(this.b);
    this.b.append = <T extends keyof TxBodies>(from: TestUser, type: T, body: TxBodies[T], lane?: number): SignedTx<T> => {
      const tx = append(from, type, body, lane);
      this.check();
      return tx;
    };
  }

  private newEvent(asset: string, delta: bigint, attestation: Record<string, string | boolean>): ChainEventModel {
    const eventId = BigInt(this.events.length + 1);
    const full = { ...attestation, eventId: eventId.toString(), custody: CUSTODY, index: 0, blockHash: `0x${eventId.toString(16).padStart(64, '0')}` } as Attestation;
    const e = { eventId, asset, delta, attestation: full, attested: false };
    this.events.push(e);
    this.custody.set(asset, (this.custody.get(asset) ?? 0n) + delta);
    this.floor.set(asset, (this.floor.get(asset) ?? 0n) + delta);
    return e;
  }

  private attest(e: ChainEventModel): void {
    for (const l of this.b.listeners.slice(0, 2)) this.b.append(l, 'attest', { chain: 'ethereum', items: [e.attestation] });
    e.attested = true;
  }

  deposit(a: Asset, units: bigint, to: TestUser, badRecipient: boolean): void {
    const amount = units * a.unit * a.scale;
    const e = this.newEvent(a.chain, amount, { kind: 'deposit', txHash: `0x${'d'.repeat(64)}`, blockHeight: '1', asset: a.chain, amount: amount.toString(), recipient: badRecipient ? 'nobody' : to.address, refundTo: RECIPIENT });
    if (badRecipient) this.claimableIds.push(e.eventId.toString());
    this.attest(e);
  }

  withdraw(a: Asset, units: bigint, from: TestUser): void {
    const amount = units * a.unit;
    if (this.b.balance(from, a.hub) < amount) return;
    const tx = this.b.append(from, 'withdraw', { chain: 'ethereum', asset: a.hub, amount: amount.toString(), recipient: RECIPIENT });
    this.arrivals.get(a.hub)?.push(toHex(tx.id));
  }

  /** Signs and lands the next action on the model chain; its execution is attested later. */
  land(): boolean {
    const id = this.landed + 1n;
    const action = this.b.action(id);
    if (!action) return false;
    const payload = action.status === 'created' ? this.b.sign(id) : (action.payloadHash ?? '');
    const free = this.custody.get(action.chainAsset) ?? 0n;
    assert.ok(free >= BigInt(action.chainAmount), `action ${id} releases ${action.chainAmount} but custody holds ${free}: the hub over-released`);
    this.newEvent(action.chainAsset, -BigInt(action.chainAmount), { kind: 'execution', txHash: `0x${'e'.repeat(64)}`, blockHeight: '1', actionId: id.toString(), payloadHash: payload, paid: true });
    this.landed = id;
    return true;
  }

  attestExecutions(): void {
    for (const e of this.events) if (!e.attested) this.attest(e);
  }

  topUp(a: Asset, units: bigint): void {
    const amount = units * a.unit * a.scale;
    this.custody.set(a.chain, (this.custody.get(a.chain) ?? 0n) + amount);
    this.topUps.set(a.chain, (this.topUps.get(a.chain) ?? 0n) + amount);
  }

  sync(): void {
    this.syncHeight += 1n;
    const items = ASSETS.map((a) => ({ asset: a.chain, blockHeight: this.syncHeight.toString(), blockHash: `0x${'5'.repeat(64)}`, balance: (this.custody.get(a.chain) ?? 0n).toString(), floor: (this.floor.get(a.chain) ?? 0n).toString() }));
    for (const l of this.b.listeners.slice(0, 2)) this.b.append(l, 'custody-sync', { chain: 'ethereum', items });
  }

  cancel(pick: number): void {
    const waiting: PendingTransfer[] = [];
    for (const a of ASSETS) {
      const next = BigInt(this.b.fifo(a.hub)?.next ?? '1');
      for (let s = 1n; s < next; s++) {
        const p = this.b.pending(a.hub, s);
        if (p?.status === 'waiting') waiting.push(p);
      }
    }
    const p = waiting[pick % Math.max(1, waiting.length)];
    if (p) this.b.append(this.b.userOf(p.owner), 'withdraw-cancel', { chain: 'ethereum', asset: p.hubAsset, seq: p.seq });
  }

  returnClaimable(pick: number): void {
    const open = this.claimableIds.filter((id) => this.b.record(keys.claimable('ethereum', id)) !== undefined);
    const id = open[pick % Math.max(1, open.length)];
    if (!id || this.b.halted()) return;
    for (const ap of this.b.approvers.slice(0, 2)) this.b.append(ap, 'return-deposit', { chain: 'ethereum', eventId: id });
  }

  check(): void {
    assert.equal(this.b.halted(), null, 'an honest interleaving never halts the chain');
    const applied = BigInt(this.b.record<{ nextEventId: string }>(keys.cursor('ethereum'))?.nextEventId ?? '1');
    const nextAction = this.b.nextActionId();
    const actions: ActionRecord[] = [];
    for (let id = 1n; id < nextAction; id++) actions.push(this.b.action(id) as ActionRecord);
    for (const a of ASSETS) {
      const holders = [...users.map((u) => u.address), treasuryAddress(PREFIX)];
      let hubSide = holders.reduce((s, h) => s + this.b.balance(h, a.hub), 0n) - GENESIS * BigInt(users.length);
      hubSide += BigInt(this.b.fifo(a.hub)?.waitingAmount ?? '0');
      for (const act of actions) if (act.hubAsset === a.hub && (act.status === 'created' || act.status === 'signed')) hubSide += BigInt(act.hubAmount);
      for (const id of this.claimableIds) {
        const c = this.b.record<ClaimableRecord>(keys.claimable('ethereum', id));
        if (c?.hubAsset === a.hub) hubSide += BigInt(c.hubAmount);
      }
      const notApplied = this.events.filter((e) => e.asset === a.chain && e.eventId >= applied).reduce((s, e) => s + e.delta, 0n);
      const synced = BigInt(this.b.record<CustodySyncRecord>(keys.custodySync('ethereum', a.hub))?.surplus ?? '0');
      const unsynced = (this.topUps.get(a.chain) ?? 0n) - synced;
      const chainSide = (this.custody.get(a.chain) ?? 0n) - notApplied - unsynced;
      assert.equal(chainSide % a.scale, 0n);
      assert.equal(hubSide, chainSide / a.scale, `conservation of ${a.hub}`);

      // FIFO order: the withdrawals that became actions are a prefix of the (non-cancelled) arrival order.
      const actionOf = new Map(actions.filter((x) => x.returnOf === null).map((x) => [x.withdrawTx, BigInt(x.actionId)]));
      const cancelled = new Set<string>();
      const next = BigInt(this.b.fifo(a.hub)?.next ?? '1');
      for (let s = 1n; s < next; s++) {
        const p = this.b.pending(a.hub, s);
        if (p?.status === 'cancelled') cancelled.add(p.withdrawTx);
      }
      let waitingSeen = false;
      let lastId = 0n;
      for (const txId of this.arrivals.get(a.hub) ?? []) {
        if (cancelled.has(txId)) continue;
        const id = actionOf.get(txId);
        if (id === undefined) {
          waitingSeen = true;
          continue;
        }
        assert.ok(!waitingSeen, `${a.hub}: a withdrawal left the FIFO before an earlier one`);
        assert.ok(id > lastId, `${a.hub}: action ids follow arrival order`);
        lastId = id;
      }
    }
  }
}

const op = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat(2), fc.nat(1), fc.integer({ min: 1, max: 12 }));

describe('pending-funds FIFO and conservation (property)', () => {
  it('hold after every block for random interleavings across two assets', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 70 }), (ops) => {
        const s = new Scenario();
        for (const [kind, u, ai, n] of ops) {
          const a = ASSETS[ai] as Asset;
          const who = users[u] as TestUser;
          switch (kind) {
            case 0:
            case 1:
              s.deposit(a, BigInt(n), who, false);
              break;
            case 2:
              s.deposit(a, BigInt(n), who, true);
              break;
            case 3:
            case 4:
              s.withdraw(a, BigInt(n), who);
              break;
            case 5:
              s.land();
              break;
            case 6:
              s.attestExecutions();
              break;
            case 7:
              s.topUp(a, BigInt(n));
              if (n % 2 === 0) s.sync();
              break;
            case 8:
              s.cancel(n);
              break;
            default:
              if (n % 3 === 0) s.returnClaimable(n);
              else s.sync();
          }
        }
        // Everything lands, is attested and synced: every transfer that custody covers has left the FIFO.
        s.sync();
        while (s.land()) s.attestExecutions();
        s.attestExecutions();
        for (const a of ASSETS) {
          const head = s.b.pending(a.hub, s.b.fifo(a.hub)?.head ?? '1');
          const free = s.b.custody(a.hub).held - s.b.custody(a.hub).pendingOut;
          if (head?.status === 'waiting') assert.ok(BigInt(head.hubAmount) > free, `${a.hub}: the head waits only while custody cannot cover it`);
        }
      }),
      { numRuns: 40 },
    );
  });
});
