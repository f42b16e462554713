import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Wakeup } from '../relayer/events.ts';

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => 'woke'), new Promise<string>((r) => setTimeout(() => r('still waiting'), ms).unref())]);

describe('Wakeup', () => {
  it('returns at once for a ring that came while the loop worked, and waits for the next one otherwise', async () => {
    const w = new Wakeup();
    const signal = new AbortController().signal;
    const seen = w.seen;
    w.ring(); // while the loop was working
    assert.equal(await within(w.wait(seen, 600_000, signal), 2_000), 'woke');
    const waiting = w.wait(w.seen, 600_000, signal);
    assert.equal(await within(waiting, 50), 'still waiting', 'nothing new: it waits');
    w.ring();
    assert.equal(await within(waiting, 2_000), 'woke');
  });

  it('wakes every waiter, gives up after its time, and on abort', async () => {
    const w = new Wakeup();
    const abort = new AbortController();
    const a = w.wait(w.seen, 600_000, abort.signal);
    const b = w.wait(w.seen, 600_000, abort.signal);
    w.ring();
    assert.deepEqual(await Promise.all([within(a, 2_000), within(b, 2_000)]), ['woke', 'woke']);
    assert.equal(await within(w.wait(w.seen, 10, abort.signal), 2_000), 'woke', 'the time limit');
    const c = w.wait(w.seen, 600_000, abort.signal);
    abort.abort();
    assert.equal(await within(c, 2_000), 'woke');
    assert.equal(await within(w.wait(w.seen, 600_000, abort.signal), 2_000), 'woke', 'already aborted');
  });
});
