import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentFrames } from '../../relayer/node/recent-frames.ts';

describe('RecentFrames', () => {
  it('keeps the newest frames up to its capacity, the oldest giving way, and never replaces a frame', () => {
    const frames = new RecentFrames(3);
    for (let h = 0n; h < 5n; h++) frames.put(h, `frame ${h}`);
    assert.deepEqual([0n, 1n, 2n, 3n, 4n].map((h) => frames.get(h)), [undefined, undefined, 'frame 2', 'frame 3', 'frame 4']);
    frames.put(4n, 'another frame 4');
    assert.equal(frames.get(4n), 'frame 4', 'a committed block has one frame');
  });
});
