/**
 * Ledger state and its incremental commitment.
 *
 * Execution never mutates state: it returns a list of `StateChange`s, which the caller
 * applies. The state commitment after block h is
 *   C(h) = SHA-256("KLX/state/v1" | C(h-1) | height | u32 count | the canonical encoding of each change of h)
 * — a hash chain over canonical state changes, so producing a block costs O(changes),
 * never a re-hash of the whole state (docs/hub-encoding.md).
 */
import { ByteWriter, sha256 } from './bytes.ts';
import type { AssetSpec } from './tx-bodies.ts';

export type StateChange =
  | { kind: 'params'; producer: Uint8Array; addressPrefix: string }
  | { kind: 'asset'; asset: string; decimals: number }
  | { kind: 'balance'; address: string; asset: string; amount: bigint }
  | { kind: 'nonce'; address: string; lane: number; next: bigint }
  /** A bridge state record (canonical JSON bytes, relayer/ledger/bridge-state.ts); null deletes it. */
  | { kind: 'entry'; key: string; value: Uint8Array | null };

const STATE_TAG = new TextEncoder().encode('KLX/state/v1');
export const ZERO_HASH = new Uint8Array(32);

export function encodeChange(c: StateChange, w: ByteWriter): void {
  switch (c.kind) {
    case 'params':
      w.u8(1).raw(c.producer).str(c.addressPrefix);
      return;
    case 'asset':
      w.u8(2).str(c.asset).u8(c.decimals);
      return;
    case 'balance':
      w.u8(3).str(c.address).str(c.asset).u128(c.amount);
      return;
    case 'nonce':
      w.u8(4).str(c.address).u32(c.lane).u64(c.next);
      return;
    case 'entry':
      w.u8(5).str(c.key);
      if (c.value === null) w.u8(0);
      else w.u8(1).bytes(c.value);
      return;
  }
}

export function nextCommitment(previous: Uint8Array, height: bigint, changes: readonly StateChange[]): Uint8Array {
  const w = new ByteWriter().raw(STATE_TAG).raw(previous).u64(height).u32(changes.length);
  for (const c of changes) encodeChange(c, w);
  return sha256(w.finish());
}

const key = (a: string, b: string | number): string => `${a}\u0000${b}`;

export interface ChainHead {
  height: bigint; // -1 before genesis
  hash: Uint8Array;
  timestampMs: bigint;
  commitment: Uint8Array;
  /** Rules version of the head block (0 before genesis); never decreases along a chain. */
  rulesVersion: number;
}

export class LedgerState {
  readonly balances = new Map<string, bigint>();
  readonly nonces = new Map<string, bigint>();
  readonly assets = new Map<string, AssetSpec>();
  /** Bridge state records by key (relayer/ledger/bridge-state.ts gives them types). */
  readonly entries = new Map<string, Uint8Array>();
  private readonly known = new Set<string>();
  producer: Uint8Array | undefined;
  addressPrefix: string | undefined;
  head: ChainHead = { height: -1n, hash: ZERO_HASH, timestampMs: 0n, commitment: ZERO_HASH, rulesVersion: 0 };

  balance(address: string, asset: string): bigint {
    return this.balances.get(key(address, asset)) ?? 0n;
  }
  nextNonce(address: string, lane: number): bigint {
    return this.nonces.get(key(address, lane)) ?? 0n;
  }
  isKnownAccount(address: string): boolean {
    return this.known.has(address);
  }

  apply(changes: readonly StateChange[]): void {
    for (const c of changes) {
      switch (c.kind) {
        case 'params':
          this.producer = c.producer;
          this.addressPrefix = c.addressPrefix;
          break;
        case 'asset':
          this.assets.set(c.asset, { id: c.asset, decimals: c.decimals });
          break;
        case 'balance':
          this.balances.set(key(c.address, c.asset), c.amount);
          this.known.add(c.address);
          break;
        case 'nonce':
          this.nonces.set(key(c.address, c.lane), c.next);
          this.known.add(c.address);
          break;
        case 'entry':
          if (c.value === null) this.entries.delete(c.key);
          else this.entries.set(c.key, c.value);
          break;
      }
    }
  }

  /** Advances the head after the block's changes were applied. */
  advance(head: ChainHead): void {
    this.head = head;
  }

  /** Every balance as (address, asset, amount), for audits and comparisons. */
  *balanceEntries(): Generator<{ address: string; asset: string; amount: bigint }> {
    for (const [k, amount] of this.balances) {
      const [address = '', asset = ''] = k.split('\u0000');
      yield { address, asset, amount };
    }
  }
  *nonceEntries(): Generator<{ address: string; lane: number; next: bigint }> {
    for (const [k, next] of this.nonces) {
      const [address = '', lane = '0'] = k.split('\u0000');
      yield { address, lane: Number(lane), next };
    }
  }
}
