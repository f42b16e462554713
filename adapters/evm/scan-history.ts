/**
 * What an EVM scan checks before it reports events (ADR 0020): its blocks form one
 * parent-linked history ending at the scan's end, its events lie in those blocks, and no
 * linked block whose log bloom names a bridge event was left without its logs.
 */
import { toEventSelector, type Hex } from 'viem';
import { ChainRpcError, type BlockRef } from '../chain-adapter.ts';
import { bloomMayContain, brokenLink, type LinkedHeader } from './block-links.ts';
import { bridgeEvents } from './evm-codec.ts';
import { mapLimit } from './evm-rpc.ts';

/** Reads in flight at once per adapter call. */
export const READ_CONCURRENCY = 8;
/** Blocks below a scan's end whose parent links the scan checks. */
export const MAX_LINKED_BLOCKS = 2_048n;

export const reorged = (chain: string, ref: BlockRef, when: string, retriable: boolean) =>
  new ChainRpcError(chain, `the chain reorganised ${when}: block ${ref.height} is no longer ${ref.hash}`, retriable);

/**
 * Blocks re-read by hash per scan at most, the newest: blooms of busy chains are dense
 * (tens of percent of Ethereum mainnet blocks may pass by chance), and a stale node serves the newest
 * blocks' logs; a poll adds a few blocks, so only a catching-up scan meets the cap.
 */
export const MAX_BLOOM_REREADS = 32;

/** The reads the checks make, through the adapter's own client. */
export interface ScanReads {
  chain: string;
  custody: string;
  /** Throws, retriably, where the node has no block. */
  headerAt(height: bigint): Promise<LinkedHeader>;
  /** The bridge's event logs of one block, named by its hash (EIP-234). */
  bridgeLogsOf(blockHash: string): Promise<readonly unknown[]>;
}

/** Throws (a reorganisation) unless `ref` is still the chain's block at its height. */
export async function requireCanonical(r: ScanReads, ref: BlockRef, detail: string, retriable: boolean): Promise<void> {
  const now = await r.headerAt(ref.height);
  if (now.hash !== ref.hash.toLowerCase()) throw reorged(r.chain, ref, detail, retriable);
}

/**
 * The scan's blocks lie on the one history that ends at `upTo`: the blocks from the scan
 * start (`from`, or the deployment block on a first scan) up to `upTo` are read and must
 * each name the one below as parent. Checking each block by itself would not do: a node
 * that applies a reorganisation block by block (anvil does) or a load balancer that mixes
 * two nodes shows new blocks above old ones, each "canonical" when asked, and the listener
 * would record an old block below a new cursor that no later check reads again. Over at
 * most MAX_LINKED_BLOCKS blocks (the newest); a scan reaching further down, which only a
 * listener catching up makes, checks its older blocks one by one. `after` (the previous
 * scan's end) must be among them unchanged; a first scan has none.
 */
export async function requireOneHistory(r: ScanReads, after: BlockRef | null, from: bigint, upTo: BlockRef, eventBlocks: readonly BlockRef[]): Promise<LinkedHeader[]> {
  const start = after?.height ?? from;
  const lowest = start < upTo.height ? start : upTo.height; // a first scan may end below the deployment
  const base = upTo.height - lowest > MAX_LINKED_BLOCKS ? upTo.height - MAX_LINKED_BLOCKS : lowest;
  const heights: bigint[] = [];
  for (let h = base; h <= upTo.height; h++) heights.push(h);
  const headers = await mapLimit(heights, READ_CONCURRENCY, (h) => r.headerAt(h));
  const top = headers[headers.length - 1];
  if (!top || top.hash !== upTo.hash.toLowerCase()) throw reorged(r.chain, upTo, 'during the scan', true);
  const broken = brokenLink(base, headers);
  if (broken !== null) {
    throw new ChainRpcError(r.chain, `the node showed blocks of two histories during the scan: block ${broken} does not follow the block it read below it`, true);
  }
  const linked = new Map(headers.map((h) => [h.height, h.hash]));
  const check = async (b: BlockRef, detail: string, retriable: boolean) => {
    const hash = linked.get(b.height);
    if (hash === undefined) await requireCanonical(r, b, detail, retriable);
    else if (hash !== b.hash.toLowerCase()) throw reorged(r.chain, b, detail, retriable);
  };
  // A changed block below the scan start means events already reported may be gone: retrying cannot fix that, the listener must stop.
  if (after) await check(after, 'below the scan start, where events were already reported (the listener must stop)', false);
  const below = new Map<bigint, BlockRef>();
  for (const b of eventBlocks) {
    const seen = below.get(b.height);
    if (seen && seen.hash !== b.hash) throw reorged(r.chain, seen, 'during the scan (two hashes at one height)', true);
    if (linked.has(b.height)) await check(b, 'during the scan', true);
    else below.set(b.height, b);
  }
  await mapLimit([...below.values()], READ_CONCURRENCY, (b) => check(b, 'during the scan', true));
  return headers;
}

/**
 * Logs of one history and blocks of another can still agree when the stale logs hold
 * nothing: a node serving old logs would hide a deposit of a new block. Every linked
 * block from `from` up whose log bloom may hold a bridge event, but for which the range
 * read returned none, is asked again by its hash (EIP-234); an answer there means the
 * range read was of another history. A bloom's false positive costs one such read.
 */
/** The bridge events' topic0 values (computed once). */
let topics: Hex[] | undefined;

export async function requireEveryLog(r: ScanReads, headers: readonly LinkedHeader[], from: bigint, logBlocks: ReadonlySet<string>): Promise<void> {
  topics ??= bridgeEvents().map((e) => toEventSelector(e));
  const eventTopics = topics;
  const suspects = headers
    .filter((h) => h.height >= from && !logBlocks.has(`${h.height}:${h.hash}`) && bloomMayContain(h.logsBloom, r.custody as Hex) && eventTopics.some((t) => bloomMayContain(h.logsBloom, t)))
    .slice(-MAX_BLOOM_REREADS);
  await mapLimit(suspects, READ_CONCURRENCY, async (h) => {
    const logs = await r.bridgeLogsOf(h.hash);
    if (logs.length > 0) {
      throw new ChainRpcError(r.chain, `the node's logs for blocks up to ${h.height} are of another history than its blocks: block ${h.height} holds ${logs.length} bridge event(s) the range read left out`, true);
    }
  });
}
