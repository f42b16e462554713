/** The submitter's SignedActionSource over its own verified hub copy: signed actions, assembled by the chain's adapter. */
import type { ChainAdapter, SignedAction } from '../../adapters/chain-adapter.ts';
import { keys, readRecord, type ActionRecord } from '../ledger/bridge-state.ts';
import type { HubView } from '../bridge/hub-view.ts';
import { openActions, signedOf } from '../bridge/action-records.ts';
import type { SignedActionSource } from './action-source.ts';

export class HubActionSource implements SignedActionSource {
  /** Per chain: the lowest action id that may still be open. */
  private readonly scanFrom = new Map<string, bigint>();
  /**
   * Assembled actions by the record bytes they came from. A record's bytes are replaced,
   * never changed in place, when the hub updates it, so the same bytes give the same
   * assembly: the signer recoveries are not redone on every landing round.
   */
  private readonly assembled = new WeakMap<Uint8Array, SignedAction>();

  constructor(
    private readonly hub: HubView,
    private readonly adapters: (chain: string) => ChainAdapter,
  ) {}

  signedActions(chain: string, fromId: bigint, limit: number): Promise<SignedAction[]> {
    const out: SignedAction[] = [];
    for (let id = fromId; out.length < limit; id++) {
      const key = keys.action(chain, id);
      const bytes = this.hub.state.entries.get(key);
      const known = bytes && this.assembled.get(bytes);
      if (known) {
        out.push(known);
        continue;
      }
      const a = readRecord<ActionRecord>(this.hub.state, key);
      // Settled records are signed too: the chain counter decides what is still to land.
      if (!bytes || !a?.processor || a.status === 'created') break;
      const signed = signedOf(this.adapters(chain), a);
      this.assembled.set(bytes, signed);
      out.push(signed);
    }
    return Promise.resolve(out);
  }

  pendingIds(chain: string): Promise<bigint[]> {
    const { actions, firstOpen } = openActions(this.hub.state, chain, this.scanFrom.get(chain) ?? 1n);
    this.scanFrom.set(chain, firstOpen);
    return Promise.resolve(actions.filter((a) => a.status === 'signed').map((a) => BigInt(a.actionId)));
  }
}
