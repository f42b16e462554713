/**
 * Where a follower gets blocks from. `HttpBlockSource` reads a channel node's SSE
 * stream and reconnects from the next height after any interruption. Only the raw
 * bytes of each message are used; the node's decoded view is never trusted.
 */
import type { Block } from '../ledger/block.ts';
import { BlockVerificationError } from '../ledger/errors.ts';
import { messageToBlock, type BlockMessage } from '../node/block-message.ts';

export interface BlockSource {
  /** Yields blocks from `from` on, in order, until `signal` aborts. */
  blocks(from: bigint, signal: AbortSignal): AsyncIterable<Block>;
}

export class HttpBlockSource implements BlockSource {
  constructor(
    private readonly baseUrl: string,
    private readonly channel: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  async *blocks(from: bigint, signal: AbortSignal): AsyncIterable<Block> {
    let next = from;
    while (!signal.aborted) {
      try {
        const url = `${this.baseUrl.replace(/\/$/, '')}/v1/channels/${encodeURIComponent(this.channel)}/stream?from=${next}`;
        const res = await fetch(url, { signal, headers: { accept: 'text/event-stream' } });
        if (!res.ok || !res.body) throw new Error(`stream answered HTTP ${res.status}`);
        for await (const data of sseData(res.body)) {
          let block: Block;
          try {
            block = messageToBlock(JSON.parse(data) as BlockMessage);
          } catch (e) {
            throw new BlockVerificationError(next, 'decode', `the node sent a block that does not decode: ${(e as Error).message}`);
          }
          if (block.height < next) continue;
          yield block;
          next = block.height + 1n;
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof BlockVerificationError) throw e;
        this.onError((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function* sseData(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    // A chunk often carries many events (the node writes what is ready at once): cut them by index, copy the rest once.
    let start = 0;
    let idx: number;
    while ((idx = buf.indexOf('\n\n', start)) >= 0) {
      const event = buf.slice(start, idx);
      start = idx + 2;
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data) yield data;
    }
    buf = buf.slice(start);
  }
}
