/** ActionLander: a queue job is a wake-up; landing goes on past its target while actions are signed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KlxError } from '../../relayer/ledger/errors.ts';
import type { SubmissionStore } from '../../relayer/submitter/submission-store.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { assertExecutedOnce, assertSubmittedInOrder, fastLander, signedChain, submitterDatabase } from '../helpers/submitter-fixture.ts';

describe('ActionLander past its target', () => {
  let db: TestDatabase;
  let store: SubmissionStore;
  before(async () => ({ db, store } = await submitterDatabase('submitter_lander')));
  after(async () => db?.drop());

  it('lands everything already signed, in order, not only up to the job that woke it', async () => {
    const { chain, source } = signedChain('beyond', 40n);
    const out = await fastLander(chain, source, store, { batchLimit: 8 }).landThrough(1n);
    assert.equal(out.nextId, 41n);
    assert.equal(out.included, 5);
    assertExecutedOnce(chain, 1n, 40n);
    assertSubmittedInOrder(chain);
  });

  it('ends after a few transactions past its target, so a job under constant load still finishes', async () => {
    const { chain, source } = signedChain('beyond-capped', 100n);
    const out = await fastLander(chain, source, store, { batchLimit: 4 }).landThrough(1n);
    assert.equal(out.included, 9, 'its own transaction and 8 more');
    assert.equal(out.nextId, 37n);
    assertExecutedOnce(chain, 1n, 36n);
  });

  it('leaves a failure past its target to the job of the failing id', async () => {
    const { chain, source } = signedChain('beyond-failing', 20n);
    chain.failBroadcasts.set(12n, 1_000);
    const lander = fastLander(chain, source, store, { batchLimit: 4 });
    const out = await lander.landThrough(3n);
    assert.equal(out.nextId, 9n, 'landed 1..8; the batch 9..12 failed');
    assertExecutedOnce(chain, 1n, 8n);
    await assert.rejects(lander.landThrough(12n), (e) => (e as KlxError).retriable === true);
    chain.failBroadcasts.clear();
    await new Promise((r) => setTimeout(r, 50)); // the lander's hold after the failure (40 ms at most here)
    assert.equal((await lander.landThrough(12n)).nextId, 21n);
    assertExecutedOnce(chain, 1n, 20n);
    assertSubmittedInOrder(chain);
  });
});
