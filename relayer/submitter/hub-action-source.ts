/** The submitter's SignedActionSource over its own verified hub copy: signed actions, assembled by the chain's adapter. */
import type { ChainAdapter, SignedAction } from '../../adapters/chain-adapter.ts';
import { keys, readRecord, type ActionRecord } from '../ledger/bridge-state.ts';
import type { HubView } from '../bridge/hub-view.ts';
import { openActions, signedOf } from '../bridge/action-records.ts';
import type { SignedActionSource } from './action-source.ts';

export class HubActionSource implements SignedActionSource {
  /** Per chain: the lowest action id that may still be open. */
  private readonly scanFrom = new Map<string, bigint>();

  constructor(
    private readonly hub: HubView,
    private readonly adapters: (chain: string) => ChainAdapter,
  ) {}

  signedActions(chain: string, fromId: bigint, limit: number): Promise<SignedAction[]> {
    const out: SignedAction[] = [];
    for (let id = fromId; out.length < limit; id++) {
      const a = readRecord<ActionRecord>(this.hub.state, keys.action(chain, id));
      // Settled records are signed too: the chain counter decides what is still to land.
      if (!a?.processor || a.status === 'created') break;
      out.push(signedOf(this.adapters(chain), a));
    }
    return Promise.resolve(out);
  }

  pendingIds(chain: string): Promise<bigint[]> {
    const { actions, firstOpen } = openActions(this.hub.state, chain, this.scanFrom.get(chain) ?? 1n);
    this.scanFrom.set(chain, firstOpen);
    return Promise.resolve(actions.filter((a) => a.status === 'signed').map((a) => BigInt(a.actionId)));
  }
}
