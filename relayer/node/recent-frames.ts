/**
 * RecentFrames: the Server-Sent-Events frames of one channel's most recently streamed
 * blocks, shared by every block stream the node serves. A committed block never changes
 * (blocks are only ever appended, each row chained to its parent), so the frame for a
 * height is the same for every follower; without this each of N followers would read,
 * decode and encode every new block itself.
 */
export class RecentFrames {
  private readonly frames = new Map<bigint, string>();

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
}
