/**
 * RecentFrames: the Server-Sent-Events frames of one channel's most recently streamed
 * blocks, shared by every block stream the node serves. A committed block never changes
 * (blocks are only ever appended, each row chained to its parent), so the frame for a
 * height is the same for every follower; without this each of N followers would read,
 * decode and encode every new block itself.
 */
export type FrameLoader = (from: bigint) => Promise<ReadonlyArray<readonly [bigint, string]>>;

export class RecentFrames {
  private readonly frames = new Map<bigint, string>();
  /**
   * Loads under way, by first height, with the commit count (BlockNotifier version) seen
   * when each started: streams woken by the same commit share one read, and a stream that
   * saw a later commit does not join a read that may have started before it.
   */
  private readonly loads = new Map<bigint, { seen: number; frames: ReturnType<FrameLoader> }>();

  constructor(private readonly capacity = 2048) {}

  get(height: bigint): string | undefined {
    return this.frames.get(height);
  }

  /** Stores the frame of a committed block; the oldest frame gives way beyond capacity. */
  put(height: bigint, frame: string): void {
    if (this.frames.has(height)) return;
    this.frames.set(height, frame);
    if (this.frames.size > this.capacity) this.frames.delete(this.frames.keys().next().value as bigint);
  }

  /**
   * The consecutive frames from `from` on (at most `maxFrames`, and stopping once `maxBytes`
   * is reached), so a stream writes what is ready in one write. When `from` is not held,
   * `load` reads it and what follows, once for every stream asking at the same time.
   * Empty when the block at `from` does not exist yet.
   */
  async from(from: bigint, load: FrameLoader, o: { seen?: number; maxFrames?: number; maxBytes?: number } = {}): Promise<string[]> {
    const seen = o.seen ?? 0;
    const maxFrames = o.maxFrames ?? 500;
    const maxBytes = o.maxBytes ?? 1 << 20;
    const out: string[] = [];
    let bytes = 0;
    const take = (frame: string) => {
      out.push(frame);
      bytes += frame.length;
      return out.length < maxFrames && bytes < maxBytes;
    };
    let h = from;
    if (!this.frames.has(h)) {
      let pending = this.loads.get(h);
      if (!pending || pending.seen < seen) {
        const entry = { seen, frames: load(h) };
        entry.frames.then(
          (got) => got.forEach(([height, frame]) => this.put(height, frame)),
          () => undefined,
        ).finally(() => {
          if (this.loads.get(from) === entry) this.loads.delete(from);
        });
        this.loads.set(h, entry);
        pending = entry;
      }
      // The loaded frames are used directly: other loads may evict them from the cache meanwhile.
      for (const [height, frame] of await pending.frames) {
        if (height !== h) break;
        h++;
        if (!take(frame)) return out;
      }
    }
    for (let frame = this.frames.get(h); frame !== undefined; frame = this.frames.get(++h)) if (!take(frame)) break;
    return out;
  }
}
