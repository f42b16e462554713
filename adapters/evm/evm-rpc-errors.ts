/**
 * What an RPC failure means for the caller: worth retrying on the same RPC (network,
 * timeout, 5xx, rate limit) or final (a revert, a refused transaction). Messages keep
 * viem's short message only and drop URLs: an RPC URL often embeds an API key.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  ExecutionRevertedError,
  HttpRequestError,
  InternalRpcError,
  LimitExceededRpcError,
  ResourceUnavailableRpcError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
} from 'viem';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { ChainRpcError } from '../chain-adapter.ts';

const withoutUrls = (text: string) => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>');

/** A one-line description of an error, safe to log. */
export function errorSummary(err: unknown): string {
  if (err instanceof BaseError) {
    const details = err.details && err.details !== err.shortMessage ? ` (${err.details})` : '';
    return withoutUrls(`${err.shortMessage}${details}`).slice(0, 400);
  }
  return withoutUrls(err instanceof Error ? err.message : String(err)).slice(0, 400);
}

/** Every message in an error's cause chain, lower-cased (for node-specific wording). */
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

/** Failures of the transport or of an overloaded node, where the same request may succeed later. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof BaseError)) return !(err instanceof KlxError); // e.g. a socket error outside viem
  if (isRevert(err)) return false;
  const http = err.walk((e) => e instanceof HttpRequestError);
  if (http instanceof HttpRequestError) {
    const status = http.status;
    return status === undefined || status >= 500 || status === 429 || status === 408;
  }
  if (err.walk((e) => e instanceof TimeoutError || e instanceof SocketClosedError)) return true;
  if (err.walk((e) => e instanceof LimitExceededRpcError || e instanceof ResourceUnavailableRpcError || e instanceof InternalRpcError)) return true;
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
