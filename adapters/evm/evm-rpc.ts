/**
 * The RPC side of the EVM adapter: the viem client, what a failure means for the caller
 * (retry on the same RPC after a network error, timeout, 5xx or rate limit; give up on a
 * revert or a refused transaction), and gas and fees for submissions. Error messages keep
 * viem's short message only and drop URLs: an RPC URL often embeds an API key.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  Eip1559FeesNotSupportedError,
  ExecutionRevertedError,
  HttpRequestError,
  InternalRpcError,
  LimitExceededRpcError,
  ResourceUnavailableRpcError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
  createPublicClient,
  defineChain,
  type Address,
  type Hex,
} from 'viem';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { ChainRpcError } from '../chain-adapter.ts';
import { nodeHttpTransport } from './node-http-transport.ts';

export function makeEvmClient(name: string, chainId: number, rpcUrl: string, pollingIntervalMs: number | undefined) {
  return createPublicClient({
    // viem's fee estimation wants a chain; only its id matters here.
    chain: defineChain({ id: chainId, name, nativeCurrency: { name: 'native', symbol: 'NATIVE', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } }),
    transport: nodeHttpTransport(rpcUrl), // no retries: the caller retries, with its own backoff
    cacheTime: 0, // a cached block number would make head() stale
    ...(pollingIntervalMs === undefined ? {} : { pollingInterval: pollingIntervalMs }),
  });
}

export type EvmClient = ReturnType<typeof makeEvmClient>;

// ---------------------------------------------------------------- failures

const withoutUrls = (text: string) => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>');

/** A one-line description of an error, safe to log. */
export function errorSummary(err: unknown): string {
  if (err instanceof BaseError) {
    const details = err.details && err.details !== err.shortMessage ? ` (${err.details})` : '';
    return withoutUrls(`${err.shortMessage}${details}`).slice(0, 400);
  }
  return withoutUrls(err instanceof Error ? err.message : String(err)).slice(0, 400);
}

/** Every message in an error's cause chain, lower-cased (nodes word the same refusal differently). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    if (e instanceof BaseError) parts.push(e.shortMessage, e.details ?? '');
    else if (e instanceof Error) parts.push(e.message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' | ').toLowerCase();
}

export function isRevert(err: unknown): boolean {
  return err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError || e instanceof ExecutionRevertedError) !== null;
}

/** Whether `err` (anywhere in its cause chain) is an instance of `kind`, e.g. BlockNotFoundError. */
export function isErrorOf(err: unknown, kind: abstract new (...args: never[]) => Error): boolean {
  return err instanceof BaseError && err.walk((e) => e instanceof kind) !== null;
}

/** Failures of the transport or of an overloaded node, where the same request may succeed later. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof BaseError)) return !(err instanceof KlxError); // e.g. a socket error outside viem
  if (isRevert(err)) return false;
  const httpError = err.walk((e) => e instanceof HttpRequestError);
  if (httpError instanceof HttpRequestError) {
    const status = httpError.status;
    return status === undefined || status >= 500 || status === 429 || status === 408;
  }
  if (err.walk((e) => e instanceof TimeoutError || e instanceof SocketClosedError)) return true;
  if (err.walk((e) => e instanceof LimitExceededRpcError || e instanceof ResourceUnavailableRpcError || e instanceof InternalRpcError)) return true;
  // A JSON-RPC error sent with a 429 or 5xx status (rate limits with a provider's own code).
  const rpcError = err.walk((e) => e instanceof RpcRequestError);
  if (rpcError instanceof RpcRequestError && rpcError.status !== undefined && (rpcError.status >= 500 || rpcError.status === 429)) return true;
  // Any other answer from the node is its final word on this request.
  return err.walk((e) => e instanceof RpcRequestError) === null;
}

/** Wraps a failed read or call: KlxErrors pass through, the rest becomes a ChainRpcError. */
export function rpcFailure(chain: string, what: string, err: unknown): KlxError {
  if (err instanceof KlxError) return err;
  return new ChainRpcError(chain, `${what} failed: ${errorSummary(err)}`, isTransient(err));
}

/** Runs `f` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------- gas and fees

/**
 * The least gas a submission gets. Gas estimation finds the smallest limit at which the
 * transaction succeeds, but a payout that runs out of gas does not revert (it becomes
 * claimable), so an estimate alone could starve payouts. The contract caps each payout
 * at 200,000 gas (tokens) and 30,000 (native); this floor covers that cap, the signature
 * checks and the bookkeeping of every action.
 */
export function submissionGasFloor(actions: number, approverQuorum: number): bigint {
  return 60_000n + BigInt(actions) * (280_000n + 12_000n * BigInt(approverQuorum + 1));
}

export async function submissionGasLimit(client: EvmClient, chain: string, tx: { from: Address; to: Address; data: Hex }, floor: bigint): Promise<bigint> {
  // One execution with five sixths of the floor: if that suffices, the floor keeps the 20%
  // margin the padded estimate would give, so the floor is the answer. The estimate's search
  // runs the whole batch a dozen times or more (about 1 s for 64 actions on anvil here).
  try {
    await client.call({ account: tx.from, to: tx.to, data: tx.data, gas: (floor * 5n) / 6n });
    return floor;
  } catch {
    // Out of gas at that limit (nodes report it as an internal error), a revert, or a failed
    // request: the estimate decides, as it always did, and reports its own failure.
  }
  try {
    const estimate = await client.estimateGas({ account: tx.from, to: tx.to, data: tx.data });
    const padded = (estimate * 6n) / 5n;
    return padded > floor ? padded : floor;
  } catch (err) {
    // A revert now may not be one at inclusion (an earlier action still in the pool);
    // the contract refuses a double execution by itself.
    if (isRevert(err)) return floor;
    throw rpcFailure(chain, 'eth_estimateGas', err);
  }
}

export type EvmFees = { type: 'eip1559'; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 'legacy'; gasPrice: bigint };

/** EIP-1559 fees from the node, or a legacy gas price where the chain has no base fee. */
export async function currentFees(client: EvmClient, chain: string): Promise<EvmFees> {
  try {
    const f = await client.estimateFeesPerGas({ type: 'eip1559' });
    return { type: 'eip1559', maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas };
  } catch (err) {
    if (!isErrorOf(err, Eip1559FeesNotSupportedError)) throw rpcFailure(chain, 'fee estimation', err);
  }
  try {
    return { type: 'legacy', gasPrice: await client.getGasPrice() };
  } catch (err) {
    throw rpcFailure(chain, 'eth_gasPrice', err);
  }
}
