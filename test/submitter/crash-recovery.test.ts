/**
 * Write-ahead submission (real PostgreSQL, no Redis): a lander that dies between send
 * and receipt leaves a pending record; the next lander (a new instance over the same
 * database, as after a restart) resolves THAT transaction and never puts a second,
 * different transaction for the same ids in flight while the first may still land.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KlxError } from '../../relayer/ledger/errors.ts';
import type { SubmissionStore } from '../../relayer/submitter/submission-store.ts';
import { SimulatedCrash } from '../helpers/counter-chain.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { assertExecutedOnce, fastLander, signedChain, sleep, submitterDatabase } from '../helpers/submitter-fixture.ts';

const isCode = (code: string) => (e: unknown) => (e as KlxError).code === code;

describe('submitter crash between send and receipt', () => {
  let db: TestDatabase;
  let store: SubmissionStore;
  before(async () => ({ db, store } = await submitterDatabase('submitter_crash')));
  after(async () => db?.drop());

  it('a pending transaction left by a crashed lander is waited for, never replaced, and executes once', async () => {
    const { chain, source } = signedChain('crash-pending', 5n);
    chain.held = true; // broadcast reaches the mempool, inclusion comes later
    chain.crashAfterBroadcast = true;
    await assert.rejects(fastLander(chain, source, store).landThrough(5n), SimulatedCrash);
    assert.equal(chain.txs.length, 1);
    const [row] = await store.pending('crash-pending');
    assert.equal(row?.txHash, chain.txs[0]?.txHash, 'the record was written before the broadcast');

    // The restarted lander finds the record and waits for THAT transaction.
    const restarted = fastLander(chain, source, store, { inclusionTimeoutMs: 100 });
    await assert.rejects(restarted.landThrough(5n), isCode('SUBMISSION_TIMEOUT'));
    await assert.rejects(restarted.landThrough(5n), isCode('SUBMISSION_TIMEOUT'));
    assert.equal(chain.txs.length, 1, 'no second transaction while the first is pending');
    assert.equal(chain.broadcasts.length, 1, 'a pending transaction is not even re-broadcast');

    chain.release();
    const out = await restarted.landThrough(5n);
    assert.equal(out.nextId, 6n);
    assertExecutedOnce(chain, 1n, 5n);
    assert.equal(chain.txs.length, 1);
    assert.deepEqual((await store.list('crash-pending')).map((r) => r.state), ['included']);
  });

  it('a lost broadcast is re-sent as the SAME bytes after the crash, and executes once', async () => {
    const { chain, source } = signedChain('crash-lost', 3n);
    chain.loseNext = 1; // accepted by the RPC, never mined unless broadcast again
    chain.crashAfterBroadcast = true;
    await assert.rejects(fastLander(chain, source, store).landThrough(3n), SimulatedCrash);
    const restarted = fastLander(chain, source, store);
    const rebroadcasts: string[] = [];
    restarted.on('rebroadcast', (e) => rebroadcasts.push(e.txHash));
    await restarted.landThrough(3n);
    assertExecutedOnce(chain, 1n, 3n);
    assert.equal(chain.txs.length, 1, 'one transaction for these ids, ever');
    const hash = chain.txs[0]?.txHash;
    assert.deepEqual(chain.broadcasts, [hash, hash]);
    assert.deepEqual(rebroadcasts, [hash]);
  });

  it('a crash after the record but before the broadcast: the recorded bytes are sent, nothing else', async () => {
    const { chain, source } = signedChain('crash-before', 4n);
    chain.crashBeforeBroadcast = true;
    await assert.rejects(fastLander(chain, source, store).landThrough(4n), SimulatedCrash);
    assert.equal(chain.txs.length, 0);
    const [row] = await store.pending('crash-before');
    assert.ok(row);
    await fastLander(chain, source, store).landThrough(4n);
    assertExecutedOnce(chain, 1n, 4n);
    assert.deepEqual(chain.broadcasts, [row.txHash]);
  });

  it('an unknown transaction is dropped only after the grace period AND once its nonce was used', async () => {
    const { chain, source } = signedChain('crash-dropped', 2n);
    chain.blackhole = true; // accepted, never reaches a miner
    chain.crashAfterBroadcast = true;
    await assert.rejects(fastLander(chain, source, store).landThrough(2n), SimulatedCrash);
    const restarted = fastLander(chain, source, store, { inclusionTimeoutMs: 30, dropGraceMs: 150 });
    const dropped: string[] = [];
    restarted.on('dropped', (e) => dropped.push(e.txHash));
    await assert.rejects(restarted.landThrough(2n), isCode('SUBMISSION_TIMEOUT'));
    await sleep(200);
    // Past the grace period, but the nonce is still free: the bytes may still land, so they are only re-sent.
    await assert.rejects(restarted.landThrough(2n), isCode('SUBMISSION_TIMEOUT'));
    assert.equal(chain.txs.length, 1);
    assert.deepEqual(dropped, []);

    // Another transaction of the payer took the nonce: the record can never land, a new one goes out.
    chain.blackhole = false;
    chain.useNonceElsewhere();
    await restarted.landThrough(2n);
    assertExecutedOnce(chain, 1n, 2n);
    assert.deepEqual(dropped, [chain.txs[0]?.txHash]);
    assert.deepEqual((await store.list('crash-dropped')).map((r) => r.state), ['dropped', 'included']);
  });

  it('two landers on the same database never have two transactions in flight for one chain', async () => {
    const { chain, source } = signedChain('two-landers', 6n);
    chain.inclusionDelayMs = 20;
    // Both prepare their transaction before either records it: only the lock-protected check separates them.
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    chain.beforePrepare = async () => {
      if (++arrived === 2) open();
      await Promise.race([gate, new Promise((r) => setTimeout(r, 10_000).unref())]); // the fallback only keeps a broken lock from hanging the test
    };
    const a = fastLander(chain, source, store);
    const b = fastLander(chain, source, store);
    const results = await Promise.allSettled([a.landThrough(6n), b.landThrough(6n)]);
    chain.beforePrepare = undefined;
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal(((rejected[0] as PromiseRejectedResult).reason as KlxError).code, 'SUBMISSION_PENDING');
    assert.equal(chain.txs.length, 1);
    assert.equal(chain.maxInFlight, 1);
    assertExecutedOnce(chain, 1n, 6n);
  });

  it('answers wake-ups for ids it just landed without an RPC read, and reads the chain again once that answer expires', async () => {
    const { chain, source } = signedChain('landed-answer', 5n);
    let skew = 0; // the lander's clock runs this far ahead: no stall of the test's own process can expire the answer early
    const lander = fastLander(chain, source, store, { landedAnswerMs: 60_000, now: () => Date.now() + skew });
    assert.equal((await lander.landThrough(5n)).nextId, 6n);
    chain.rpcDown = 1; // a read now would fail
    assert.deepEqual(await lander.landThrough(3n), { nextId: 6n, included: 0 }, 'answered from the landing');
    assert.equal(chain.rpcDown, 1, 'no RPC call was made');
    chain.rpcDown = 0;
    // A reorganisation drops the execution of 4 and 5: after the answer expires, the chain decides again.
    chain.nextActionId = 4n;
    chain.executed.splice(3);
    skew += 61_000;
    assert.equal((await lander.landThrough(4n)).nextId, 6n);
    assert.deepEqual(chain.executed, [1n, 2n, 3n, 4n, 5n]);
  });
});
