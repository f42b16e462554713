/**
 * Typed access to a registered chain's records that several bridge rules share: the chain and
 * its cursor, halting it, custody figures, the processor's hub address and amount conversion.
 * Pure: state overlay in, TxRejected out.
 */
import { addressFromPublicKey } from './address.ts';
import { rescaleAmount } from './chain-families.ts';
import { TxRejected } from './errors.ts';
import type { LedgerState } from './state.ts';
import { keys, type ChainCursor, type ChainRecord, type CustodyRecord, type StateOverlay } from './bridge-state.ts';

export function producerAddress(s: LedgerState): string {
  if (!s.producer || !s.addressPrefix) throw new TxRejected('NOT_AUTHORIZED', 'the channel has no producer yet');
  return addressFromPublicKey(s.addressPrefix, s.producer);
}

export function chainOf(o: StateOverlay, chain: string): { rec: ChainRecord; cursor: ChainCursor } {
  const rec = o.get<ChainRecord>(keys.chain(chain));
  const cursor = o.get<ChainCursor>(keys.cursor(chain));
  if (!rec || !cursor) throw new TxRejected('UNKNOWN_CHAIN', `chain "${chain}" is not registered on this channel`);
  return { rec, cursor };
}

export function halt(o: StateOverlay, chain: string, reason: string): void {
  const { cursor } = chainOf(o, chain);
  o.set(keys.cursor(chain), { ...cursor, halted: reason } satisfies ChainCursor);
}

export function custodyOf(o: StateOverlay, chain: string, hubAsset: string): { held: bigint; pendingOut: bigint } {
  const c = o.get<CustodyRecord>(keys.custody(chain, hubAsset)) ?? { held: '0', pendingOut: '0' };
  return { held: BigInt(c.held), pendingOut: BigInt(c.pendingOut) };
}
export function setCustody(o: StateOverlay, chain: string, hubAsset: string, c: { held: bigint; pendingOut: bigint }): void {
  o.set(keys.custody(chain, hubAsset), { held: c.held.toString(), pendingOut: c.pendingOut.toString() } satisfies CustodyRecord);
}

/** Hub base units → chain base units, or null when the chain cannot carry the amount exactly. */
export function hubToChainAmount(hubAmount: bigint, hubDecimals: number, chainDecimals: number, max: bigint): bigint | null {
  const out = rescaleAmount(hubAmount, hubDecimals, chainDecimals);
  return out !== null && out > 0n && out <= max ? out : null;
}

