/** The submitter's SignedActionSource over its own verified hub copy: signed actions, assembled by the chain's adapter. */
import type { ChainAdapter, SignedAction } from '../../adapters/chain-adapter.ts';
import { keys, readRecord, recordsWithPrefix, type ActionRecord } from '../ledger/bridge-state.ts';
import type { HubView } from '../bridge/hub-view.ts';
import { signedOf } from '../bridge/action-records.ts';
import type { SignedActionSource } from './action-source.ts';

export class HubActionSource implements SignedActionSource {
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
    return Promise.resolve(
      recordsWithPrefix<ActionRecord>(this.hub.state, `action/${chain}/`)
        .filter((r) => r.value.status === 'signed')
        .map((r) => BigInt(r.value.actionId))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
}
