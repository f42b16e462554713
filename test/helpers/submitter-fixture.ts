/** Shared setup of the submitter tests: a migrated ledger schema, fast landers, small assertions. */
import assert from 'node:assert/strict';
import { migrate } from '../../relayer/store/migrate.ts';
import { ActionLander, type ActionLanderOptions } from '../../relayer/submitter/action-lander.ts';
import { SubmissionStore } from '../../relayer/submitter/submission-store.ts';
import { CounterChain, signedAction } from './counter-chain.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { MemoryActionSource } from './memory-action-source.ts';

export const SCHEMA = 'submitter';
/** A well-formed payer key for CounterChain (test value only). */
export const PAYER_SECRET = 'ab'.repeat(32);

export async function submitterDatabase(label: string): Promise<{ db: TestDatabase; store: SubmissionStore }> {
  const db = await createTestDatabase(label);
  const c = await db.pool.connect();
  try {
    await migrate(c, SCHEMA);
  } finally {
    c.release();
  }
  return { db, store: new SubmissionStore(db.pool, SCHEMA) };
}

/** A lander with test-sized timings. */
export function fastLander(chain: CounterChain, source: MemoryActionSource, store: SubmissionStore, o: Partial<ActionLanderOptions> = {}): ActionLander {
  return new ActionLander({
    adapter: chain,
    source,
    store,
    payerSecret: PAYER_SECRET,
    pollIntervalMs: 2,
    inclusionTimeoutMs: 2000,
    dropGraceMs: 60_000,
    holdBaseMs: 5,
    holdMaxMs: 40,
    ...o,
  });
}

export const range = (from: bigint, to: bigint): bigint[] => {
  const out: bigint[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
};

/** A fresh counter chain and a source holding its actions 1..n, all signed. */
export function signedChain(chainName: string, n: bigint): { chain: CounterChain; source: MemoryActionSource } {
  const chain = new CounterChain(chainName);
  const source = new MemoryActionSource();
  for (const id of range(1n, n)) source.sign(signedAction(chainName, id));
  return { chain, source };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The chain saw only in-order submissions: every distinct transaction started exactly at
 * the chain's counter when it was broadcast, and never two in flight at once.
 */
export function assertSubmittedInOrder(chain: CounterChain): void {
  for (const t of chain.txs) assert.equal(t.firstId, t.counterAtBroadcast, `tx ${t.txHash} (${t.firstId}..${t.lastId}) was sent when the counter was ${t.counterAtBroadcast}`);
  assert.ok(chain.maxInFlight <= 1, `${chain.maxInFlight} transactions were in flight at once`);
}

/** Executed strictly ascending from `first`, no gaps, each once. */
export function assertExecutedOnce(chain: CounterChain, first: bigint, last: bigint): void {
  assert.deepEqual(chain.executed, range(first, last));
}
