/**
 * A non-retriable error (here a malformed payer key) fails the job at once with its code:
 * no silent retry loop, nothing sent, and the later jobs of the chain fail the same way.
 * A restart (start()) is the operator's "fixed it": the failed jobs run again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActionQueue, jobIdOf } from '../../relayer/submitter/action-queue.ts';
import type { SubmitterEvents } from '../../relayer/submitter/events.ts';
import type { SubmissionStore } from '../../relayer/submitter/submission-store.ts';
import { CounterChain, signedAction } from '../helpers/counter-chain.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { MemoryActionSource } from '../helpers/memory-action-source.ts';
import { waitFor } from '../helpers/processes.ts';
import { deletePrefix, randomPrefix, REDIS_HOST, REDIS_PORT } from '../helpers/redis.ts';
import { assertExecutedOnce, fastLander, sleep, submitterDatabase } from '../helpers/submitter-fixture.ts';

const CHAIN = 'ethereum';

describe('submitter: non-retriable errors', () => {
  let db: TestDatabase;
  let store: SubmissionStore;
  const prefix = randomPrefix('unrecoverable');
  const queues: ActionQueue[] = [];
  before(async () => ({ db, store } = await submitterDatabase('submitter_fail')));
  after(async () => {
    for (const q of queues) await q.close();
    await deletePrefix(prefix);
    await db?.drop();
  });

  function queueWith(chain: CounterChain, source: MemoryActionSource, payerSecret: string): ActionQueue {
    const lander = fastLander(chain, source, store, { payerSecret });
    const q = new ActionQueue({ connection: { host: REDIS_HOST, port: REDIS_PORT }, prefix, source, landers: [lander], reconcileIntervalMs: 0, backoffBaseMs: 5, backoffMaxMs: 20 });
    queues.push(q);
    return q;
  }

  it('a bad payer key fails the job clearly with its code and does not loop', async () => {
    const chain = new CounterChain(CHAIN);
    const source = new MemoryActionSource();
    source.sign(signedAction(CHAIN, 1n));
    source.sign(signedAction(CHAIN, 2n));
    const q = queueWith(chain, source, 'not-a-key');
    const failed: SubmitterEvents['failed'][] = [];
    const retries: SubmitterEvents['retry'][] = [];
    q.on('failed', (e) => failed.push(e));
    q.on('retry', (e) => retries.push(e));
    await q.start();
    await waitFor('both jobs to fail', () => failed.length === 2, 5000);
    assert.deepEqual(failed.map((f) => [f.actionId, f.code]), [
      [1n, 'BAD_PAYER_KEY'],
      [2n, 'BAD_PAYER_KEY'],
    ]);
    assert.ok(!failed.some((f) => f.message.includes('not-a-key')), 'the secret is not in the message');

    await sleep(150); // several backoff periods: a retriable failure would have run again by now
    const job = await q.queueOf(CHAIN).getJob(jobIdOf(1n));
    assert.ok(job);
    assert.equal(await job.getState(), 'failed');
    assert.equal(job.attemptsMade, 1);
    assert.match(job.failedReason, /^BAD_PAYER_KEY: /);
    assert.equal(failed.length, 2);
    assert.deepEqual(retries.map((r) => `${r.actionId} ${r.code} ${r.message}`), []);
    assert.equal(chain.broadcasts.length, 0, 'nothing was sent');
    assert.deepEqual(await store.list(CHAIN), []);
    await q.close();

    // Fixed configuration, restarted: the failed jobs run again and land.
    const fixed = queueWith(chain, source, 'cd'.repeat(32));
    await fixed.start();
    await waitFor('the actions to land after the restart', () => chain.nextActionId === 3n, 5000);
    assertExecutedOnce(chain, 1n, 2n);
  });
});
