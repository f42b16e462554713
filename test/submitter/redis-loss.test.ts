/**
 * Redis holds no truth: FLUSHALL in the middle of landing (on a redis-server this test
 * owns) loses every job, and reconcile() rebuilds the queue from the action source; the
 * same worker keeps working, everything lands, nothing executes twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActionQueue } from '../../relayer/submitter/action-queue.ts';
import type { SubmissionStore } from '../../relayer/submitter/submission-store.ts';
import { CounterChain, signedAction } from '../helpers/counter-chain.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { MemoryActionSource } from '../helpers/memory-action-source.ts';
import { waitFor } from '../helpers/processes.ts';
import { startOwnedRedis, type OwnedRedis } from '../helpers/redis.ts';
import { assertExecutedOnce, assertSubmittedInOrder, fastLander, range, sleep, submitterDatabase } from '../helpers/submitter-fixture.ts';

const CHAIN = 'ethereum';

describe('submitter after a Redis loss', () => {
  let db: TestDatabase;
  let store: SubmissionStore;
  let redis: OwnedRedis;
  let queue: ActionQueue | undefined;

  before(async () => {
    ({ db, store } = await submitterDatabase('submitter_redis'));
    redis = await startOwnedRedis();
  });
  after(async () => {
    await queue?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('FLUSHALL mid-flow: reconcile rebuilds the queue, everything lands once, the worker keeps working', async () => {
    const chain = new CounterChain(CHAIN);
    chain.inclusionDelayMs = 10;
    const source = new MemoryActionSource();
    const N = 60n;
    for (const id of range(1n, N)) source.sign(signedAction(CHAIN, id));
    const lander = fastLander(chain, source, store, { batchLimit: 2 });
    queue = new ActionQueue({
      connection: { host: redis.host, port: redis.port },
      prefix: 'klx',
      source,
      landers: [lander],
      reconcileIntervalMs: 0, // this test calls reconcile itself
      backoffBaseMs: 5,
      backoffMaxMs: 50,
    });
    const errors: string[] = [];
    queue.on('queue-error', (e) => errors.push(e.message));
    await queue.start(); // its first reconcile enqueues all 60
    assert.ok((await redis.client.keys('klx:*')).length > 0);

    await waitFor('some actions to land', () => chain.nextActionId > 10n, 10_000);
    assert.equal(await redis.client.flushall(), 'OK');
    const at = chain.nextActionId;
    assert.ok(at <= N, 'the flush came before the end');

    // Without reconcile the lost jobs never come back: the queue stays empty below N.
    await sleep(300);
    assert.ok(chain.nextActionId <= N, `nothing woke the chain after the flush (next id ${chain.nextActionId})`);

    // Settled ids are not re-enqueued; the rest are.
    for (const id of range(1n, at - 1n)) source.settle(CHAIN, id);
    const enqueued = await queue.reconcile();
    assert.ok(enqueued > 0 && enqueued <= Number(N - at + 1n) + 2);
    await waitFor('all actions to land after the rebuild', () => chain.nextActionId === N + 1n, 10_000);
    assertExecutedOnce(chain, 1n, N);
    assertSubmittedInOrder(chain);

    // The same worker still picks up new work.
    source.sign(signedAction(CHAIN, N + 1n));
    await queue.enqueue(CHAIN, N + 1n);
    await waitFor('a new action to land', () => chain.nextActionId === N + 2n, 5000);
    assertExecutedOnce(chain, 1n, N + 1n);
    assert.ok((await store.list(CHAIN)).every((r) => r.state === 'included'));
    // BullMQ could not finish the job that was active during the flush; it said so and went on.
    assert.ok(errors.every((m) => /Missing key for job/.test(m)), errors.join('; '));
  });
});
