/**
 * Typed access to a registered chain's records that several bridge rules share: the chain and
 * its cursor, halting it, custody figures and reservations, creating action n, the processor's
 * hub address and amount conversion.
 * Pure: state overlay in, TxRejected out.
 */
import { ADDRESS_VERSION_KEY, addressFromPublicKey, decodeAddress } from './address.ts';
import { rescaleAmount } from './chain-families.ts';
import { TxRejected } from './errors.ts';
import type { LedgerState } from './state.ts';
import { keys, type ActionRecord, type ChainCursor, type ChainRecord, type CustodyRecord, type StateOverlay } from './bridge-state.ts';

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


/** Custody not reserved yet: what a new release of a lock-mode asset may use. */
export function availableCustody(o: StateOverlay, chain: string, hubAsset: string): bigint {
  const c = custodyOf(o, chain, hubAsset);
  return c.held - c.pendingOut;
}

/** Reserves `amount` out of custody; a lock-mode asset must be covered by what custody holds for the hub and has not reserved. */
export function reserveCustody(o: StateOverlay, chain: string, hubAsset: string, mode: 'lock' | 'mint', amount: bigint): void {
  const c = custodyOf(o, chain, hubAsset);
  if (mode === 'lock' && c.held - c.pendingOut < amount) {
    throw new TxRejected('INSUFFICIENT_CUSTODY', `custody of ${hubAsset} on ${chain} covers ${c.held - c.pendingOut}, less than ${amount}`);
  }
  setCustody(o, chain, hubAsset, { held: c.held, pendingOut: c.pendingOut + amount });
}

export type NewAction = Omit<ActionRecord, 'actionId' | 'status' | 'payloadHash' | 'approvals' | 'processor' | 'execution'>;

/** Creates the chain's next action (id n = the cursor's next action id). */
export function createAction(o: StateOverlay, chain: string, a: NewAction): bigint {
  const { cursor } = chainOf(o, chain);
  const id = BigInt(cursor.nextActionId);
  o.set(keys.cursor(chain), { ...cursor, nextActionId: (id + 1n).toString() } satisfies ChainCursor);
  o.set(keys.action(chain, id), { actionId: id.toString(), ...a, status: 'created', payloadHash: null, approvals: {}, processor: null, execution: null } satisfies ActionRecord);
  return id;
}

/** Whether a deposit's hub recipient can be credited: a key address of this network, or a module account that exists. */
export function isUsableRecipient(o: StateOverlay, recipient: string): boolean {
  try {
    return decodeAddress(recipient, o.base.addressPrefix ?? '').version === ADDRESS_VERSION_KEY || o.base.isKnownAccount(recipient);
  } catch {
    return false;
  }
}
