/**
 * Issue #7's scenarios on Solana, with the real SPL Token, ATA and Memo programs (bankrun,
 * served as JSON-RPC to the adapter's Connection) and the hub's real rules: the real
 * ChainListener (3 of 5 listeners, each with its own adapter) and ActionApprover code attest
 * and approve; the processor's co-signature and the submitter's landing use the same
 * functions the roles use. The hub is in memory (ChainBuilder), the roles' stores are small
 * in-memory stand-ins: the process-level devnet runs EVM chains only so far.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { BlockRef, ChainAdapter, ChainAssetSpec } from '../../../adapters/chain-adapter.ts';
import { ChainListener } from '../../../relayer/listener/chain-listener.ts';
import type { ListenerCursor, ListenerStore } from '../../../relayer/listener/listener-store.ts';
import { ActionApprover } from '../../../relayer/approver/action-approver.ts';
import type { HubView } from '../../../relayer/bridge/hub-view.ts';
import type { ConfiguredChain } from '../../../relayer/bridge/bridge-setup.ts';
import { approvalContexts, shareToBody, signedOf, unsignedOf, validApproverShares } from '../../../relayer/bridge/action-records.ts';
import { keys, readRecord, type ActionRecord, type ClaimableRecord, type CustodyRecord, type CustodySyncRecord, type EventRecord, type StrayRecord } from '../../../relayer/ledger/bridge-state.ts';
import type { ChainRegisterBody } from '../../../relayer/ledger/bridge-bodies.ts';
import { addressFromPublicKey } from '../../../relayer/ledger/address.ts';
import type { TxBodies } from '../../../relayer/ledger/tx-bodies.ts';
import { ChainBuilder } from '../../helpers/chain-builder.ts';
import { genesisFor, PREFIX, producerKey, user, type TestUser } from '../../helpers/channel.ts';
import { TxFactory } from '../../helpers/bridge-txs.ts';
import { startSolanaBridge, type SolanaBridge } from '../../helpers/solana-bridge.ts';
import type { SolanaAdapter } from '../../../adapters/solana/solana-adapter.ts';
import { decodeBundle, encodeBundle } from '../../../adapters/solana/solana-codec.ts';

const CHAIN = 'solana';

/** A real adapter whose head and reorg check the test decides (everything else is the adapter's own). */
function withHeadAndReorg(real: SolanaAdapter, o: Pick<ChainAdapter, 'head' | 'checkReorg'>): SolanaAdapter {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'head' || prop === 'checkReorg') return o[prop];
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

class MemoryListenerStore {
  private c: ListenerCursor | null = null;
  private halt_: { reason: string; height: string | null } | null = null;
  private readonly blocks: BlockRef[] = [];
  cursor = () => Promise.resolve(this.c);
  halted = () => Promise.resolve(this.halt_);
  attestedBlocks = () => Promise.resolve([...this.blocks]);
  advance(_: string, cursor: ListenerCursor, attested: readonly BlockRef[]): Promise<void> {
    this.c = cursor;
    this.blocks.push(...attested);
    return Promise.resolve();
  }
  halt(_: string, reason: string, height: bigint | null): Promise<void> {
    this.halt_ = { reason, height: height?.toString() ?? null };
    return Promise.resolve();
  }
  clearHalt(): void {
    this.halt_ = null;
  }
}

describe('Solana bridge flow: deposits, releases and the bridged-KLX supply, against the hub rules', () => {
  let b: SolanaBridge;
  let hub: ChainBuilder;
  const f = new TxFactory();
  const alice = user('alice');
  const listeners = [0, 1, 2, 3, 4].map((i) => user(`sol-listener-${i}`));
  const approvers = [0, 1, 2].map((i) => user(`sol-approver-${i}`));
  const producer = { name: 'producer', key: producerKey(), address: addressFromPublicKey(PREFIX, producerKey().publicKey) } satisfies TestUser;
  let configured: (adapter: SolanaAdapter) => ConfiguredChain;
  let runListeners: () => Promise<void>;
  const record = <T>(key: string) => readRecord<T>(hub.state, key);
  /** A HubView stand-in: the in-memory hub, transactions signed by `who`, delivered (appended, by default) as the processor acknowledges them. */
  const hubOf = (who: TestUser, deliver: (tx: ReturnType<typeof f.sign>) => void = (tx) => hub.append(tx)) =>
    ({
      get state() {
        return hub.state;
      },
      address: who.address,
      submit<T extends keyof TxBodies>(type: T, body: TxBodies[T], lane = 0) {
        deliver(f.sign(who, type, body, lane));
        return Promise.resolve({});
      },
    }) as unknown as HubView;

  before(async () => {
    b = await startSolanaBridge({ finalityLag: 2, network: 'devnet', chain: CHAIN });
    hub = new ChainBuilder(producerKey(), genesisFor([alice]));
    const registration: ChainRegisterBody = {
      chain: CHAIN,
      family: 'solana',
      chainRef: 'bankrun',
      custody: b.options.multisig,
      listeners: listeners.map((l) => l.address),
      listenerQuorum: 3,
      approvers: approvers.map((a) => a.address),
      approverQuorum: 2,
      assets: [
        { hubAsset: 'ETH', chainAsset: b.lockMint, chainDecimals: 6, mode: 'lock' },
        { hubAsset: 'KLX', chainAsset: b.klxMint, chainDecimals: 7, mode: 'mint' },
      ],
    };
    hub.append(f.sign(producer, 'chain-register', registration));
    const specs: [string, ChainAssetSpec & { hubAsset: string }][] = [
      [b.lockMint, { chainAsset: b.lockMint, decimals: 6, hubDecimals: 18, mode: 'lock', hubAsset: 'ETH' }],
      [b.klxMint, { chainAsset: b.klxMint, decimals: 7, hubDecimals: 9, mode: 'mint', hubAsset: 'KLX' }],
    ];
    configured = (adapter) => ({ name: CHAIN, adapter, registration, assets: new Map(specs), custodySyncBlocks: 4 });
    const roles = listeners.slice(0, 3).map((l) => new ChainListener(configured(b.adapter()), hubOf(l), new MemoryListenerStore() as unknown as ListenerStore, 7));
    runListeners = async () => {
      for (const l of roles) await l.tick();
    };
    await b.mintTo(b.lockMint, b.user.publicKey.toBase58(), 10n ** 12n);
  });
  after(async () => {
    await b?.close();
  });

  /** Lets the chain finalize what happened, then every listener takes a turn. */
  async function settle(): Promise<void> {
    await b.rpc.advance(3);
    await runListeners();
  }

  const events = () => {
    const out: EventRecord[] = [];
    for (let id = 1n; ; id++) {
      const e = record<EventRecord>(keys.event(CHAIN, id));
      if (!e) return out;
      out.push(e);
    }
  };

  it('credits a memo deposit once; a deposit without a memo is claimable by its sender; an unconfigured mint is stray custody', async () => {
    const eth0 = hub.state.balance(alice.address, 'ETH');
    const credited = await b.deposit({ mint: b.lockMint, amount: 2_500_000n, memo: alice.address });
    await settle();
    await runListeners(); // a second round: nothing is attested twice
    assert.equal(hub.state.balance(alice.address, 'ETH') - eth0, 2_500_000n * 10n ** 12n, 'credited once, rescaled from 6 to 18 decimals');
    const first = events().find((e) => e.txHash === credited);
    assert.equal(first?.outcome, 'credited');

    const noMemo = await b.deposit({ mint: b.lockMint, amount: 1_000_000n });
    await b.mintTo(b.strayMint, b.user.publicKey.toBase58(), 777n);
    const stray = await b.deposit({ mint: b.strayMint, amount: 777n, memo: alice.address });
    await settle();
    const byTx = new Map(events().map((e) => [e.txHash, e]));
    const claimable = byTx.get(noMemo);
    assert.equal(claimable?.outcome, 'claimable');
    assert.equal(record<ClaimableRecord>(keys.claimable(CHAIN, BigInt(claimable.eventId)))?.refundTo, b.user.publicKey.toBase58(), 'the sender can claim it');
    const strayEvent = byTx.get(stray);
    assert.equal(strayEvent?.outcome, 'stray');
    const strayRec = record<StrayRecord>(keys.stray(CHAIN, BigInt(strayEvent.eventId)));
    assert.deepEqual([strayRec?.chainAsset, strayRec?.amount, strayRec?.refundTo], [b.strayMint, '777', b.user.publicKey.toBase58()]);
    assert.equal(hub.state.balance(alice.address, 'ETH') - eth0, 2_500_000n * 10n ** 12n, 'neither credited anyone');
    // Hub-numbered in (slot, tx, instruction) order with no gap.
    assert.deepEqual(events().map((e) => e.eventId), events().map((_, i) => String(i + 1)));
    // The listeners' custody readings at checkpoint slots agree with the deposits they attested: nothing to credit, no halt.
    const sync = record<CustodySyncRecord>(keys.custodySync(CHAIN, 'ETH'));
    assert.ok(sync && BigInt(sync.height) > 0n, 'a checkpoint reading was applied');
    assert.equal(BigInt(sync.balance) - BigInt(sync.floor), 0n);
    assert.equal(record<{ halted: string | null }>(keys.cursor(CHAIN))?.halted, null);
  });

  it('a listener sends no vote its hub copy already counts: neither a repeat after a failed tick nor a late vote (event or custody reading) makes a block', async () => {
    const attestsBy = (who: TestUser) => hub.blocks.filter((blk) => blk.tx.type === 'attest' && blk.tx.sender === who.address).length;
    /** A store whose first cursor write fails: the tick fails after the hub took its votes. */
    class FailingOnceStore extends MemoryListenerStore {
      private failed = false;
      override advance(chain: string, cursor: ListenerCursor, attested: readonly BlockRef[]): Promise<void> {
        if (!this.failed) {
          this.failed = true;
          return Promise.reject(new Error('the database went away'));
        }
        return super.advance(chain, cursor, attested);
      }
    }
    const [l3, l4] = [listeners[3] as TestUser, listeners[4] as TestUser];
    const eth0 = hub.state.balance(alice.address, 'ETH');
    await b.deposit({ mint: b.lockMint, amount: 3_000_000n, memo: alice.address });
    await b.rpc.advance(3);
    // A listener new to the chain votes first for the new deposit; the earlier events are applied already.
    const early = new ChainListener(configured(b.adapter()), hubOf(l3), new FailingOnceStore() as unknown as ListenerStore, 7);
    await assert.rejects(early.tick(), /the database went away/);
    assert.equal(attestsBy(l3), 1, 'one vote: the new deposit only');
    await early.tick();
    assert.equal(attestsBy(l3), 1, 'the retried tick sent no vote again');
    await runListeners();
    assert.equal(hub.state.balance(alice.address, 'ETH') - eth0, 3_000_000n * 10n ** 12n, 'credited once the quorum agreed');

    const fresh = new ChainListener(configured(b.adapter()), hubOf(l4), new MemoryListenerStore() as unknown as ListenerStore, 7);
    await fresh.tick();
    assert.equal(attestsBy(l4), 0, 'every event the fresh listener sees is already applied: no late vote');
    const syncsBy = (who: TestUser) => hub.blocks.filter((blk) => blk.tx.type === 'custody-sync' && blk.tx.sender === who.address).length;
    assert.ok(syncsBy(listeners[0] as TestUser) > 0, 'the quorum synced custody at checkpoints');
    assert.equal(syncsBy(l4), 0, 'the hub synced custody at or past every checkpoint the fresh listener reads: no late reading');
    assert.equal(record<{ halted: string | null }>(keys.cursor(CHAIN))?.halted, null);
  });

  /** Approvers (real ActionApprover), the processor's co-signature, the submitter's landing, then the listeners. */
  async function withdrawAndLand(type: 'ETH' | 'KLX', amount: bigint, recipient: string): Promise<ActionRecord> {
    hub.append(f.sign(alice, 'withdraw', { chain: CHAIN, asset: type, amount: amount.toString(), recipient }));
    const id = BigInt(record<{ nextActionId: string }>(keys.cursor(CHAIN))?.nextActionId ?? '1') - 1n;
    const roles = approvers.slice(0, 2).map((a, i) => {
      const chain = configured(b.adapter());
      return { approver: new ActionApprover([{ chain, signer: chain.adapter.signer(b.seeds.approvers[i] as string), lane: 3 }], hubOf(a)), chain, signer: chain.adapter.signer(b.seeds.approvers[i] as string) };
    });
    for (let round = 0; round < 20 && Object.keys(record<ActionRecord>(keys.action(CHAIN, id))?.approvals ?? {}).length < 2; round++) {
      for (const r of roles) await r.approver.tick({ chain: r.chain, signer: r.signer, lane: 3 });
      await b.rpc.advance(1);
    }
    const adapter: ChainAdapter = b.adapter();
    const a = record<ActionRecord>(keys.action(CHAIN, id)) as ActionRecord;
    assert.equal(Object.keys(a.approvals).length, 2, 'two approvers approved');
    // The processor's co-signature, as ActionCosigner derives it.
    const context = approvalContexts(a)[0] ?? '';
    const unsigned = unsignedOf(adapter, a, context);
    const shares = validApproverShares(adapter, unsigned, a);
    const request = adapter.signingRequests(unsigned, shares).find((r) => r.role === 'processor');
    assert.ok(request);
    const processor = adapter.signer(b.seeds.processor);
    hub.append(f.sign(producer, 'cosign', { chain: CHAIN, items: [shareToBody(unsigned, { signer: processor.address, role: 'processor', round: 0, signature: processor.sign(request) })] }));
    const signed = signedOf(adapter, record<ActionRecord>(keys.action(CHAIN, id)) as ActionRecord);
    const submission = await adapter.prepareSubmission([signed], b.seeds.payer, null);
    await adapter.broadcast(submission);
    assert.equal(await adapter.submissionState(submission), 'included');
    await settle();
    return record<ActionRecord>(keys.action(CHAIN, id)) as ActionRecord;
  }

  it('a withdrawal is approved from the hub copy, released with a memo, executed and settled; the next one waits for it', async () => {
    const wallet = Keypair.generate().publicKey.toBase58();
    const done = await withdrawAndLand('ETH', 1_000_000n * 10n ** 12n, wallet);
    assert.equal(done.status, 'executed', 'the listeners attested the execution and the hub settled it');
    assert.equal(await b.tokenBalance(wallet, b.lockMint), 1_000_000n, "the recipient's token account was created and paid");
    assert.equal(record<CustodyRecord>(keys.custody(CHAIN, 'ETH'))?.pendingOut, (1_000_000n * 10n ** 12n).toString(), 'settled; only the claimable deposit (no memo) stays reserved');

    // Release n re-signed after it landed (another approver pair, the same nonce value): the chain refuses it.
    const adapter: ChainAdapter = b.adapter();
    const again = unsignedOf(adapter, done, done.processor?.context ?? '');
    const [p, a1, a2] = [b.seeds.processor, b.seeds.approvers[1] as string, b.seeds.approvers[2] as string].map((k) => adapter.signer(k));
    const ask = (role: 'approver' | 'processor', shares: Parameters<typeof adapter.signingRequests>[1]) => adapter.signingRequests(again, shares).find((r) => r.role === role) as NonNullable<ReturnType<typeof adapter.signingRequests>[number]>;
    const s1 = { signer: a1!.address, role: 'approver' as const, round: 0, signature: a1!.sign(ask('approver', [])) };
    const s2 = { signer: a2!.address, role: 'approver' as const, round: 0, signature: a2!.sign(ask('approver', [s1])) };
    // A partial copy of a1's bundle, recorded first (another approver sent it under a1's name), does not hide a1's full share.
    const entries = decodeBundle(s1.signature) ?? [];
    assert.ok(entries.length >= 2, 'an approver signs every variant it is in');
    for (const e of entries) {
      const partial = { ...s1, signature: encodeBundle([e]) };
      assert.ok(adapter.signingRequests(again, [partial, s1, s2]).some((r) => r.role === 'processor'), `behind a copy of variant ${e.variant} only`);
    }
    const sp = { signer: p!.address, role: 'processor' as const, round: 0, signature: p!.sign(ask('processor', [s1, s2])) };
    const resigned = await adapter.prepareSubmission([adapter.assemble(again, [s1, s2, sp])], b.seeds.payer, null);
    assert.notEqual(resigned.txHash, done.execution?.txHash, 'a different transaction for the same action');
    await assert.rejects(adapter.broadcast(resigned), (e) => (e as { code?: string; retriable?: boolean }).code === 'CHAIN_RPC_REFUSED' && (e as { retriable?: boolean }).retriable === false);
    assert.equal(await b.tokenBalance(wallet, b.lockMint), 1_000_000n, 'nothing was paid twice');

    // Action n + 1 cannot be built against the nonce n used: an approver refuses to sign it before n executed.
    const next = BigInt(done.actionId) + 1n;
    assert.equal(await adapter.actionContext(next).then(String), await adapter.actionContext(next).then(String), 'deterministic for every party');
    await assert.rejects(adapter.actionContext(next + 1n), (e) => (e as { code?: string }).code === 'NOT_EXECUTABLE_YET');
  });

  it('mint and burn of bridged KLX keep the Solana supply equal to the native KLX the hub locks for Solana', async () => {
    const locked = () => BigInt(record<CustodyRecord>(keys.custody(CHAIN, 'KLX'))?.held ?? '0');
    const supplyInHubUnits = async () => (await b.supply(b.klxMint)) * 100n; // 7 → 9 decimals
    const holder = b.user.publicKey.toBase58();
    const minted = await withdrawAndLand('KLX', 500_000_000n, holder); // 0.5 KLX
    assert.equal(minted.status, 'executed');
    assert.equal(await b.tokenBalance(holder, b.klxMint), 5_000_000n);
    assert.equal(await supplyInHubUnits(), locked());
    assert.equal(locked(), 500_000_000n);

    const klx0 = hub.state.balance(alice.address, 'KLX');
    await b.burnDeposit({ amount: 2_000_000n, memo: alice.address }); // 0.2 KLX back to the hub
    await settle();
    assert.equal(hub.state.balance(alice.address, 'KLX') - klx0, 200_000_000n);
    assert.equal(await supplyInHubUnits(), locked());
    assert.equal(locked(), 300_000_000n);
  });
  // Last: it leaves an action with one approval open.
  it('an approver whose hub copy has not caught up with its own approval does not sign and send it again', async () => {
    const wallet = Keypair.generate().publicKey.toBase58();
    hub.append(f.sign(alice, 'withdraw', { chain: CHAIN, asset: 'ETH', amount: (10n ** 18n).toString(), recipient: wallet }));
    const id = BigInt(record<{ nextActionId: string }>(keys.cursor(CHAIN))?.nextActionId ?? '1') - 1n;
    const me = approvers[0] as TestUser;
    // Acknowledged by the processor, not yet in this approver's verified copy.
    const sent: ReturnType<typeof f.sign>[] = [];
    const lagging = hubOf(me, (tx) => sent.push(tx));
    const chain = configured(b.adapter());
    const role = { chain, signer: chain.adapter.signer(b.seeds.approvers[0] as string), lane: 3 };
    const approver = new ActionApprover([role], lagging);
    assert.equal(await approver.tick(role), 1);
    assert.equal(await approver.tick(role), 0, 'already sent: nothing to do until the copy shows it');
    assert.equal(sent.length, 1);
    for (const tx of sent.splice(0)) hub.append(tx);
    assert.ok(record<ActionRecord>(keys.action(CHAIN, id))?.approvals[me.address], 'the approval is on the hub');
    assert.equal(await approver.tick(role), 0);
    assert.equal(sent.length, 0);
  });
  it('a listener writes a cursor that only moved once per flush interval; a tick that votes or syncs writes at once', async () => {
    class CountingStore extends MemoryListenerStore {
      writes = 0;
      override advance(chain: string, cursor: ListenerCursor, attested: readonly BlockRef[]): Promise<void> {
        this.writes++;
        return super.advance(chain, cursor, attested);
      }
    }
    const store = new CountingStore();
    let now = 0;
    const heightOf = async () => (await store.cursor())?.block.height ?? -1n;
    const quiet = { ...configured(b.adapter()), custodySyncBlocks: 1_000_000_000 };
    const l = new ChainListener(quiet, hubOf(listeners[4] as TestUser), store as unknown as ListenerStore, 7, { now: () => now, cursorFlushMs: 5_000 });
    await l.tick();
    assert.equal(store.writes, 1, 'the first tick writes where it stands');
    const first = await heightOf();
    await b.rpc.advance(2);
    await l.tick();
    assert.equal(store.writes, 1, 'a quiet tick keeps the moved cursor in memory');
    now = 5_000;
    await b.rpc.advance(2);
    await l.tick();
    assert.equal(store.writes, 2, 'written once the interval has passed');
    assert.ok((await heightOf()) > first);
    // The halt flag is read again at least once per interval.
    await store.halt(CHAIN, 'halted for the test', null);
    now = 10_000;
    await b.rpc.advance(2);
    await l.tick();
    assert.equal(store.writes, 2, 'a halted listener writes nothing');
    store.clearHalt();
    // A checkpoint in range makes the tick sync custody: written at once, whatever the clock says.
    const syncing = new ChainListener(configured(b.adapter()), hubOf(listeners[4] as TestUser), store as unknown as ListenerStore, 7, { now: () => now, cursorFlushMs: 5_000 });
    await b.rpc.advance(1);
    await syncing.tick();
    assert.equal(store.writes, 3, 'its first tick writes');
    await b.rpc.advance(8);
    await syncing.tick();
    assert.equal(store.writes, 4, 'a tick past a checkpoint writes at once');
    // Within the interval, a halt set meanwhile (another process, an operator) is still read before anything is sent.
    const l4 = listeners[4] as TestUser;
    const attests = () => hub.blocks.filter((blk) => blk.tx.type === 'attest' && blk.tx.sender === l4.address).length;
    await b.rpc.advance(1);
    await l.tick(); // running again, its cursor freshly written
    assert.equal(store.writes, 5);
    const sent = attests();
    await store.halt(CHAIN, 'halted elsewhere', null);
    await b.deposit({ mint: b.lockMint, amount: 1_000_000n, memo: alice.address });
    await b.rpc.advance(3);
    assert.equal(await l.tick(), 0);
    assert.equal(attests(), sent, 'no vote from a halted listener');
    assert.equal(store.writes, 5);
  });
  it('a quiet tick makes no reorg check; a replaced final block at the cursor height, or a head that cannot be read, still gets one', async () => {
    const store = new MemoryListenerStore();
    const real = b.adapter();
    let reorgChecks = 0;
    let forgedFinal: BlockRef | null = null;
    let reorged = false;
    let headFails = false;
    // The real adapter, with its reorg checks counted and, on demand, a head whose final block was replaced, a
    // head read that fails, or a chain that reports the cursor block changed.
    const adapter = withHeadAndReorg(real, {
      head: async () => {
        if (headFails) throw new Error('the node lost the final block');
        return { ...(await real.head()), ...(forgedFinal ? { final: forgedFinal } : {}) };
      },
      checkReorg: (blocks) => (reorgChecks++, reorged ? Promise.resolve(blocks[0] ?? null) : real.checkReorg(blocks)),
    });
    const quiet = { ...configured(adapter), custodySyncBlocks: 1_000_000_000 };
    // Every tick writes its cursor, so the store shows the block the listener stands on.
    const l = new ChainListener(quiet, hubOf(listeners[4] as TestUser), store as unknown as ListenerStore, 7, { cursorFlushMs: 0 });
    await b.rpc.advance(2);
    await l.tick();
    const cursor = await store.cursor();
    assert.ok(cursor, 'the first tick wrote where it stands');
    const checks = reorgChecks;
    await l.tick();
    await l.tick();
    assert.equal(reorgChecks, checks, 'nothing new is final: the cursor block is the final block just read, no second read of it');
    await b.rpc.advance(2);
    await l.tick();
    assert.equal(reorgChecks, checks + 1, 'a new final block: the cursor block is checked once');
    // A head that cannot be read: the reorg check still runs (nothing changed here), then the failure is reported.
    headFails = true;
    await assert.rejects(l.tick(), /lost the final block/);
    assert.equal(reorgChecks, checks + 2, 'checked although the head failed');
    headFails = false;
    const at = (await store.cursor())?.block as BlockRef;
    forgedFinal = { height: at.height, hash: `${at.hash.slice(0, -4)}zzzz` };
    reorged = true;
    assert.equal(await l.tick(), 0);
    assert.ok(reorgChecks > checks + 2, 'the same height with another hash is not taken for the cursor block: it is checked');
    assert.match((await store.halted())?.reason ?? '', /changed after it was attested/);
    // And a chain reorganised under a head that cannot be read halts all the same.
    store.clearHalt();
    const again = new ChainListener(quiet, hubOf(listeners[4] as TestUser), store as unknown as ListenerStore, 7, { cursorFlushMs: 0 });
    headFails = true;
    assert.equal(await again.tick(), 0);
    assert.match((await store.halted())?.reason ?? '', /changed after it was attested/);
  });
  it('a reorg is named at its lowest changed attested block, also while it is applied block by block or seen through two views', async () => {
    const attested: BlockRef[] = Array.from({ length: 200 }, (_, i) => ({ height: BigInt(i + 1), hash: `old-${i + 1}` }));
    /** Halts a listener whose chain replaced the blocks `changed` says, and returns the height named and the blocks read. */
    const haltWith = async (changed: (height: bigint, read: number) => boolean) => {
      const store = new MemoryListenerStore();
      await store.advance(CHAIN, { block: { height: 250n, hash: 'old-250' }, nextEventId: 1n, custodyFloor: {} }, attested);
      let blocksRead = 0;
      const real = b.adapter();
      const adapter = withHeadAndReorg(real, {
        head: async () => ({ ...(await real.head()), final: { height: 260n, hash: 'new-260' } }),
        checkReorg: (blocks) => {
          blocksRead += blocks.length;
          return Promise.resolve(blocks.find((x) => x.height === 250n || changed(x.height, blocksRead)) ?? null);
        },
      });
      const l = new ChainListener({ ...configured(adapter), custodySyncBlocks: 1_000_000_000 }, hubOf(listeners[4] as TestUser), store as unknown as ListenerStore, 7);
      assert.equal(await l.tick(), 0);
      return { height: (await store.halted())?.height, blocksRead };
    };
    // Every block from 137 up replaced: found without reading the whole history.
    const plain = await haltWith((h) => h >= 137n);
    assert.equal(plain.height, '137');
    assert.ok(plain.blocksRead <= 1 + 64 + 72, `${plain.blocksRead} block reads for 200 attested blocks`);
    // The newest attested blocks are already the new chain's (recorded while the reorganisation was half applied).
    assert.equal((await haltWith((h) => h >= 137n && h <= 150n)).height, '137');
    // The reorganisation reaches lower while the listener reads.
    assert.equal((await haltWith((h, read) => h >= (read > 20 ? 137n : 190n))).height, '137');
  });
});
