/**
 * Strict order through the BullMQ queue (real Redis, real PostgreSQL): whatever order
 * jobs arrive or are retried in, the chain sees in-order submissions only, and every id
 * executes exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActionQueue } from '../../relayer/submitter/action-queue.ts';
import type { SubmitterEvents } from '../../relayer/submitter/events.ts';
import type { SubmissionStore } from '../../relayer/submitter/submission-store.ts';
import { CounterChain, signedAction } from '../helpers/counter-chain.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { MemoryActionSource } from '../helpers/memory-action-source.ts';
import { waitFor } from '../helpers/processes.ts';
import { prng } from '../helpers/random.ts';
import { deletePrefix, randomPrefix, REDIS_HOST, REDIS_PORT } from '../helpers/redis.ts';
import { assertExecutedOnce, assertSubmittedInOrder, fastLander, range, sleep, submitterDatabase } from '../helpers/submitter-fixture.ts';

const CHAIN = 'ethereum';

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

describe('ordered action queue', () => {
  let db: TestDatabase;
  let store: SubmissionStore;
  const prefixes: string[] = [];
  const queues: ActionQueue[] = [];

  before(async () => ({ db, store } = await submitterDatabase('submitter_order')));
  after(async () => {
    for (const q of queues) await q.close();
    for (const p of prefixes) await deletePrefix(p);
    await db?.drop();
  });

  function queueFor(chain: CounterChain, source: MemoryActionSource, batchLimit: number): ActionQueue {
    const prefix = randomPrefix('order');
    prefixes.push(prefix);
    const lander = fastLander(chain, source, store, { batchLimit });
    const q = new ActionQueue({ connection: { host: REDIS_HOST, port: REDIS_PORT }, prefix, source, landers: [lander], reconcileIntervalMs: 0, backoffBaseMs: 5, backoffMaxMs: 60 });
    queues.push(q);
    return q;
  }

  async function drained(q: ActionQueue, chain = CHAIN): Promise<void> {
    await waitFor('the queue to drain', async () => {
      const c = await q.queueOf(chain).getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
      return Object.values(c).every((n) => n === 0);
    }, 10_000);
  }

  it('200 actions signed in random order land strictly ascending, each exactly once', async () => {
    const seed = Date.now() >>> 0;
    const rand = prng(seed);
    const chain = new CounterChain(CHAIN);
    chain.inclusionDelayMs = 2;
    const source = new MemoryActionSource();
    const q = queueFor(chain, source, 16);
    await q.start();
    const ids = shuffled(range(1n, 200n), rand);
    for (const [i, id] of ids.entries()) {
      source.sign(signedAction(CHAIN, id));
      await q.enqueue(CHAIN, id);
      // Let the worker run while gaps are still open.
      if (i % 8 === 7) await sleep(1);
    }
    await waitFor('all 200 actions to execute', () => chain.nextActionId === 201n, 20_000);
    await drained(q);
    assertExecutedOnce(chain, 1n, 200n);
    assertSubmittedInOrder(chain);
    assert.equal(chain.txs.filter((t) => t.status !== 'included').length, 0, `seed ${seed}: no transaction reverted or was dropped`);
    const rows = await store.list(CHAIN);
    assert.ok(rows.every((r) => r.state === 'included'));
    assert.equal(rows.length, chain.txs.length, 'every transaction was recorded before it was sent');
  });

  it('retriable failures on random actions: still ascending, no gaps, no duplicates, and the queue recovers', async () => {
    const seed = Date.now() >>> 0;
    const rand = prng(seed);
    const chain = new CounterChain('polygon');
    chain.inclusionDelayMs = 1;
    const source = new MemoryActionSource();
    const lander = fastLander(chain, source, store, { batchLimit: 4 });
    const prefix = randomPrefix('faults');
    prefixes.push(prefix);
    const q = new ActionQueue({ connection: { host: REDIS_HOST, port: REDIS_PORT }, prefix, source, landers: [lander], reconcileIntervalMs: 0, backoffBaseMs: 5, backoffMaxMs: 60 });
    queues.push(q);
    const retries: SubmitterEvents['retry'][] = [];
    q.on('retry', (e) => retries.push(e));
    let landed = 0;
    q.on('landed', () => {
      // An RPC outage every few inclusions.
      if (++landed % 5 === 0) chain.rpcDown = 3;
    });
    const N = 80n;
    const faulty = shuffled(range(2n, N), rand).slice(0, 12);
    faulty.slice(0, 6).forEach((id) => chain.failBroadcasts.set(id, 2));
    faulty.slice(6).forEach((id) => chain.reverts.set(id, 1));
    await q.start();
    for (const id of shuffled(range(1n, N), rand)) {
      source.sign(signedAction('polygon', id));
      await q.enqueue('polygon', id);
    }
    await waitFor('all actions to execute', () => chain.nextActionId === N + 1n, 20_000).catch((e: Error) => {
      throw new Error(`seed ${seed}: ${e.message}; stuck at ${chain.nextActionId}, last retries: ${retries.slice(-3).map((r) => r.message).join(' | ')}`);
    });
    assertExecutedOnce(chain, 1n, N);
    assertSubmittedInOrder(chain);
    const codes = new Set(retries.map((r) => r.code));
    assert.ok(codes.has('CHAIN_RPC_UNAVAILABLE') && codes.has('SUBMISSION_REVERTED'), `seed ${seed}: the faults happened (${[...codes].join(', ')})`);
    assert.equal(chain.txs.filter((t) => t.status === 'reverted').length, 6, 'each injected revert cost one transaction, no more');
    for (const id of range(1n, N)) assert.equal(chain.txsWith(id).filter((t) => t.status === 'included').length, 1);

    // Recovered: a new action lands at once and nothing is left failed or delayed.
    source.sign(signedAction('polygon', N + 1n));
    await q.enqueue('polygon', N + 1n);
    await waitFor('the next action to land', () => chain.nextActionId === N + 2n, 5000);
    const c = await q.queueOf('polygon').getJobCounts('wait', 'active', 'delayed', 'failed');
    assert.equal(c.failed, 0);
    await drained(q, 'polygon');
  });
});
