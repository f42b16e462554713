/**
 * `listener-clear-halt` against a real listener store (PostgreSQL) and a chain whose
 * history the test rewrites: the cursor is re-anchored on the chain as it is now, also when
 * the cursor's own slot is empty in the new history (a skipped Solana slot), and only the
 * attested blocks the chain replaced are forgotten.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ChainRpcError, type BlockRef, type ChainAdapter } from '../../adapters/chain-adapter.ts';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { clearListenerHalt, HaltNotClearable, MAX_EMPTY_SLOTS } from '../../relayer/listener/halt-clearing.ts';
import { ListenerStore } from '../../relayer/listener/listener-store.ts';
import { migrate } from '../../relayer/store/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const CHAIN = 'sol';

/** A chain of `length` heights, hashes `<fork><height>`; `empty` heights hold no block. */
class RewritableChain implements Pick<ChainAdapter, 'head' | 'blockAt' | 'checkReorg'> {
  readonly hashes = new Map<bigint, string>();
  constructor(length: number) {
    for (let h = 0n; h < BigInt(length); h++) this.hashes.set(h, `a${h}`);
  }
  /** Replaces every height from `from` up with fork `fork`, leaving `empty` heights without a block. */
  rewrite(from: bigint, fork: string, empty: readonly bigint[] = []): void {
    for (const h of [...this.hashes.keys()]) if (h >= from) this.hashes.set(h, `${fork}${h}`);
    for (const h of empty) this.hashes.delete(h);
  }
  truncate(below: bigint): void {
    for (const h of [...this.hashes.keys()]) if (h >= below) this.hashes.delete(h);
  }
  head(): Promise<{ latest: BlockRef; final: BlockRef }> {
    const top = [...this.hashes.keys()].reduce((a, b) => (a > b ? a : b));
    const final = { height: top, hash: this.hashes.get(top) ?? '' };
    return Promise.resolve({ latest: final, final });
  }
  blockAt(height: bigint): Promise<BlockRef | null> {
    const hash = this.hashes.get(height);
    return Promise.resolve(hash === undefined ? null : { height, hash });
  }
  checkReorg(attested: readonly BlockRef[]): Promise<BlockRef | null> {
    return Promise.resolve(attested.find((b) => this.hashes.get(b.height) !== b.hash) ?? null);
  }
}

describe('listener-clear-halt', () => {
  let db: TestDatabase;
  let store: ListenerStore;
  let chain: RewritableChain;
  const ref = (height: bigint, fork = 'a'): BlockRef => ({ height, hash: `${fork}${height}` });
  const heights = async () => (await store.attestedBlocks(CHAIN)).map((b) => b.height);

  before(async () => {
    db = await createTestDatabase('halt_clearing');
  });
  after(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    const schema = `listener_${Math.random().toString(36).slice(2, 10)}`;
    const client = await db.pool.connect();
    await migrate(client, schema).finally(() => client.release());
    store = new ListenerStore(db.pool, schema);
    chain = new RewritableChain(40);
    // The listener attested events in 5, 10 and 12 and its cursor block is 15; then it halted there.
    await store.advance(CHAIN, { block: ref(15n), nextEventId: 4n, custodyFloor: { m: '7' } }, [ref(5n), ref(10n), ref(12n), ref(15n)]);
    await store.halt(CHAIN, 'block 15 changed', 15n);
  });

  it('re-anchors on the new block at the cursor height and forgets the replaced attested blocks', async () => {
    chain.rewrite(12n, 'b');
    const out = await clearListenerHalt(store, chain, CHAIN);
    assert.deepEqual(out, { cleared: true, anchor: ref(15n, 'b'), forgotFrom: 12n });
    assert.equal(await store.halted(CHAIN), null);
    assert.deepEqual(await store.cursor(CHAIN), { block: ref(15n, 'b'), nextEventId: 4n, custodyFloor: { m: '7' } });
    assert.deepEqual(await heights(), [5n, 10n]);
  });

  it('re-anchors just below the cursor height when that slot is empty in the new history', async () => {
    chain.rewrite(12n, 'b', [14n, 15n]);
    const out = await clearListenerHalt(store, chain, CHAIN);
    // Heights 14 and 15 hold no block: scanning after 13 reads the same blocks as scanning after 15, so the numbering holds.
    assert.deepEqual(out, { cleared: true, anchor: ref(13n, 'b'), forgotFrom: 12n });
    assert.deepEqual(await store.cursor(CHAIN), { block: ref(13n, 'b'), nextEventId: 4n, custodyFloor: { m: '7' } });
    assert.equal(await store.halted(CHAIN), null);
    assert.deepEqual(await heights(), [5n, 10n]);
  });

  it('changes nothing while the chain is shorter than the cursor height, and says to retry', async () => {
    chain.rewrite(12n, 'b');
    chain.truncate(15n);
    await assert.rejects(clearListenerHalt(store, chain, CHAIN), (e: unknown) => e instanceof HaltNotClearable && e.retriable && /retry once the chain is past it/.test(e.message));
    assert.deepEqual(await store.halted(CHAIN), { reason: 'block 15 changed', height: '15' });
    assert.deepEqual((await store.cursor(CHAIN))?.block, ref(15n));
    assert.deepEqual(await heights(), [5n, 10n, 12n, 15n]);
  });

  it('refuses, changing nothing, when no block lies within the empty-slot bound below the cursor', async () => {
    const empty = Array.from({ length: MAX_EMPTY_SLOTS + 1 }, (_, i) => 15n - BigInt(i)).filter((h) => h >= 0n);
    chain.rewrite(0n, 'b', empty);
    await assert.rejects(clearListenerHalt(store, chain, CHAIN), (e: unknown) => e instanceof HaltNotClearable && !e.retriable);
    assert.notEqual(await store.halted(CHAIN), null);
    assert.deepEqual((await store.cursor(CHAIN))?.block, ref(15n));
  });

  it('changes nothing when the node cannot answer for a block (a lagging node is no empty slot)', async () => {
    chain.rewrite(12n, 'b');
    const lagging = { ...chain, head: () => chain.head(), checkReorg: (b: readonly BlockRef[]) => chain.checkReorg(b), blockAt: () => Promise.reject(new ChainRpcError(CHAIN, 'block 15: the node has no block there', true)) };
    await assert.rejects(clearListenerHalt(store, lagging, CHAIN), (e: unknown) => e instanceof ChainRpcError && e.retriable);
    assert.notEqual(await store.halted(CHAIN), null);
    assert.deepEqual((await store.cursor(CHAIN))?.block, ref(15n));
    assert.deepEqual(await heights(), [5n, 10n, 12n, 15n]);
  });

  it('clears nothing when the cursor moved after it was read', async () => {
    await assert.rejects(store.clearHalt(CHAIN, { from: ref(14n), to: ref(14n, 'b') }, 12n), (e: unknown) => e instanceof KlxError && e.code === 'CURSOR_MOVED');
    // Same height, another block (the cursor was re-anchored meanwhile): no match either.
    await assert.rejects(store.clearHalt(CHAIN, { from: ref(15n, 'z'), to: ref(15n, 'b') }, 12n), (e: unknown) => e instanceof KlxError && e.code === 'CURSOR_MOVED');
    assert.notEqual(await store.halted(CHAIN), null);
    assert.deepEqual((await store.cursor(CHAIN))?.block, ref(15n));
    assert.deepEqual(await heights(), [5n, 10n, 12n, 15n]);
  });

  it('does nothing on a chain that is not halted', async () => {
    // Cleared with the chain unchanged: the cursor stays, and the halt height is forgotten from.
    assert.deepEqual(await clearListenerHalt(store, chain, CHAIN), { cleared: true, anchor: ref(15n), forgotFrom: 15n });
    chain.rewrite(3n, 'c');
    assert.deepEqual(await clearListenerHalt(store, chain, CHAIN), { cleared: false, anchor: null, forgotFrom: null });
    assert.deepEqual((await store.cursor(CHAIN))?.block, ref(15n));
    assert.deepEqual(await heights(), [5n, 10n, 12n]);
  });
});

describe('ListenerStore.attestedBlocks', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('attested_blocks');
  });
  after(async () => {
    await db?.drop();
  });

  it('lists the newest attested blocks in height order, across heights of different lengths', async () => {
    const client = await db.pool.connect();
    await migrate(client, 'listener_order').finally(() => client.release());
    const store = new ListenerStore(db.pool, 'listener_order');
    const all = [8n, 9n, 10n, 99n, 100n, 1000n].map((height) => ({ height, hash: `h${height}` }));
    await store.advance(CHAIN, { block: { height: 1000n, hash: 'h1000' }, nextEventId: 1n, custodyFloor: {} }, all);
    assert.deepEqual((await store.attestedBlocks(CHAIN)).map((b) => b.height), [8n, 9n, 10n, 99n, 100n, 1000n]);
    // The limit keeps the newest by height (sorted as text, '99' and '9' would come first).
    assert.deepEqual((await store.attestedBlocks(CHAIN, 3)).map((b) => b.height), [99n, 100n, 1000n]);
  });

  it('keeps the newest attested blocks of each chain only, pruning every few advances', async () => {
    const client = await db.pool.connect();
    await migrate(client, 'listener_prune').finally(() => client.release());
    const store = new ListenerStore(db.pool, 'listener_prune', { keepAttested: 5, pruneEvery: 4 });
    const at = (height: bigint) => ({ height, hash: `h${height}` });
    const advance = (chain: string, height: bigint) => store.advance(chain, { block: at(height), nextEventId: 1n, custodyFloor: {} }, [at(height - 1n), at(height)]);
    // Two chains writing in turn: each is pruned at its own fourth advance.
    for (const h of [10n, 20n, 30n]) {
      await advance(CHAIN, h);
      await advance('other', h + 100n);
    }
    assert.deepEqual((await store.attestedBlocks(CHAIN)).map((b) => b.height), [9n, 10n, 19n, 20n, 29n, 30n]);
    await advance(CHAIN, 40n);
    assert.deepEqual((await store.attestedBlocks(CHAIN)).map((b) => b.height), [20n, 29n, 30n, 39n, 40n]);
    assert.equal((await store.attestedBlocks('other')).length, 6, 'the other chain made three advances only');
    await advance('other', 140n);
    assert.deepEqual((await store.attestedBlocks('other')).map((b) => b.height), [120n, 129n, 130n, 139n, 140n]);
    // A pruning that fails is reported, and the advance it follows stands.
    const failures: string[] = [];
    const broken = new ListenerStore(db.pool, 'listener_prune', { keepAttested: 0, pruneEvery: 1, onPruneError: (chain, e) => failures.push(`${chain}: ${e.message}`) });
    await broken.advance(CHAIN, { block: at(50n), nextEventId: 1n, custodyFloor: {} }, [at(50n)]);
    assert.equal(failures.length, 1, 'OFFSET -1 is refused by PostgreSQL');
    assert.deepEqual((await store.cursor(CHAIN))?.block, at(50n));
  });
});
