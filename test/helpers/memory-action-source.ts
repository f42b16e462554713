/** An in-memory SignedActionSource: tests sign actions in any order and settle them. */
import type { SignedAction } from '../../adapters/chain-adapter.ts';
import type { SignedActionSource } from '../../relayer/submitter/action-source.ts';

export class MemoryActionSource implements SignedActionSource {
  private readonly signed = new Map<string, Map<bigint, SignedAction>>();
  private readonly settled = new Map<string, Set<bigint>>();

  sign(action: SignedAction): void {
    let m = this.signed.get(action.chain);
    if (!m) this.signed.set(action.chain, (m = new Map<bigint, SignedAction>()));
    m.set(action.actionId, action);
  }

  settle(chain: string, actionId: bigint): void {
    let s = this.settled.get(chain);
    if (!s) this.settled.set(chain, (s = new Set<bigint>()));
    s.add(actionId);
  }

  signedActions(chain: string, fromId: bigint, limit: number): Promise<SignedAction[]> {
    const m = this.signed.get(chain);
    const out: SignedAction[] = [];
    for (let id = fromId; m && out.length < limit; id++) {
      const a = m.get(id);
      if (!a) break;
      out.push(a);
    }
    return Promise.resolve(out);
  }

  pendingIds(chain: string): Promise<bigint[]> {
    const s = this.settled.get(chain);
    const ids = [...(this.signed.get(chain)?.keys() ?? [])].filter((id) => !s?.has(id));
    return Promise.resolve(ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
