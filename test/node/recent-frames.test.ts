import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentFrames } from '../../relayer/node/recent-frames.ts';

/** A loader over a chain of `head + 1` blocks that counts its reads. */
function chainLoader(head: bigint, perRead = 500) {
  const reads: bigint[] = [];
  const load = async (from: bigint) => {
    reads.push(from);
    await new Promise((r) => setImmediate(r));
    const out: Array<readonly [bigint, string]> = [];
    for (let h = from; h <= head && out.length < perRead; h++) out.push([h, `frame ${h}\n\n`]);
    return out;
  };
  return { reads, load };
}

describe('RecentFrames', () => {
  it('keeps the newest frames up to its capacity, the oldest giving way, and never replaces a frame', () => {
    const frames = new RecentFrames(3);
    for (let h = 0n; h < 5n; h++) frames.put(h, `frame ${h}`);
    assert.deepEqual([0n, 1n, 2n, 3n, 4n].map((h) => frames.get(h)), [undefined, undefined, 'frame 2', 'frame 3', 'frame 4']);
    frames.put(4n, 'another frame 4');
    assert.equal(frames.get(4n), 'frame 4', 'a committed block has one frame');
  });

  it('serves every stream woken by one commit from a single read, all that is ready at once', async () => {
    const frames = new RecentFrames();
    const { reads, load } = chainLoader(9n);
    const got = await Promise.all(Array.from({ length: 10 }, () => frames.from(3n, load)));
    assert.deepEqual(reads, [3n], 'ten streams at the same height: one read');
    for (const g of got) assert.deepEqual(g, [3n, 4n, 5n, 6n, 7n, 8n, 9n].map((h) => `frame ${h}\n\n`));
    // Held frames are served without reading, from any height, consecutive only.
    assert.deepEqual(await frames.from(8n, load), ['frame 8\n\n', 'frame 9\n\n']);
    assert.deepEqual(reads, [3n]);
    // Nothing beyond the head: the read finds nothing, and says so.
    assert.deepEqual(await frames.from(10n, load), []);
    assert.deepEqual(reads, [3n, 10n]);
  });

  it('stops at the frame and byte limits, and continues from held frames after a short read', async () => {
    const frames = new RecentFrames();
    const { load } = chainLoader(99n, 10);
    assert.equal((await frames.from(0n, load, { maxFrames: 4 })).length, 4, 'at most maxFrames');
    assert.equal((await frames.from(0n, load, { maxBytes: 1 })).length, 1, 'one frame reaches a 1-byte budget');
    const first = await frames.from(0n, load);
    assert.equal(first.length, 10, 'a read of 10 rows gives 10 frames');
    const next = await frames.from(10n, load);
    assert.equal(next[0], 'frame 10\n\n');
  });

  it('does not let a stream that saw a later commit join a read that may have started before that commit', async () => {
    const frames = new RecentFrames();
    let committed = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reads: boolean[] = [];
    const load = async (from: bigint) => {
      const sawCommit = committed;
      reads.push(sawCommit);
      if (!sawCommit) await gate; // this read began before block 5 was committed
      return sawCommit ? [[from, 'frame 5\n\n'] as const] : [];
    };
    const early = frames.from(5n, load, { seen: 1 });
    committed = true; // block 5 commits; its notification is the stream's version 2
    const woken = frames.from(5n, load, { seen: 2 });
    assert.deepEqual(await woken, ['frame 5\n\n'], 'the woken stream reads again, and gets the block');
    release();
    assert.deepEqual(await early, ['frame 5\n\n'], 'the earlier read found nothing; the frame the newer read held is served');
    assert.deepEqual(reads, [false, true]);
    // Streams that saw the same commit share the read.
    const { reads: shared, load: counting } = chainLoader(9n);
    await Promise.all([frames.from(6n, counting, { seen: 3 }), frames.from(6n, counting, { seen: 3 }), frames.from(6n, counting, { seen: 2 })]);
    assert.deepEqual(shared, [6n]);
  });

  it('passes a failed read on to every waiting stream and reads again afterwards', async () => {
    const frames = new RecentFrames();
    let fail = true;
    const load = async (from: bigint) => {
      await new Promise((r) => setImmediate(r));
      if (fail) throw new Error('database gone');
      return [[from, 'f\n\n'] as const];
    };
    const results = await Promise.allSettled([frames.from(0n, load), frames.from(0n, load)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    fail = false;
    assert.deepEqual(await frames.from(0n, load), ['f\n\n']);
  });
});
