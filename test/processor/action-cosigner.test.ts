/** ActionCosigner's work loop: it wakes for commits that can bring it work, not for every commit. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfiguredChain } from '../../relayer/bridge/bridge-setup.ts';
import { TypedEmitter, type ProcessorEvents } from '../../relayer/events.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { ActionCosigner } from '../../relayer/processor/action-cosigner.ts';
import type { ChannelProcessor } from '../../relayer/processor/processor.ts';
import type { ChannelStore } from '../../relayer/store/channel-store.ts';
import type { ChainSigner } from '../../adapters/chain-adapter.ts';
import { waitFor } from '../helpers/processes.ts';

class FakeProcessor extends TypedEmitter<ProcessorEvents> {
  isLeader = true;
  commit(txTypes: string[]): void {
    this.emit('blocks-committed', { channel: 'bridge', fromHeight: 1n, toHeight: 1n, count: txTypes.length, writeMs: 0, txTypes });
  }
}

describe('ActionCosigner.run', () => {
  it('works at commits that may hold approvals or overrides, and sleeps through withdrawals, attestations and syncs', async () => {
    const processor = new FakeProcessor();
    let reads = 0;
    // Each round reads the chain record first; failing there ends the round (an alarm), so rounds are counted by reads.
    const store = { record: () => Promise.reject(new Error(`read ${++reads}`)) } as unknown as ChannelStore;
    const cosigner = new ActionCosigner(processor as unknown as ChannelProcessor, store, { network: 'devnet', channel: 'bridge', addressPrefix: 'klxd' }, Ed25519Signer.fromSeedHex('11'.repeat(32)), [
      { chain: { name: 'ethereum' } as ConfiguredChain, signer: {} as ChainSigner },
    ]);
    cosigner.on('alarm', () => undefined);
    const abort = new AbortController();
    const running = cosigner.run(abort.signal, 600_000);
    try {
      await waitFor('the first round', () => reads === 1, 5_000);
      for (const busy of [['withdraw'], ['attest', 'custody-sync'], ['cosign', 'withdraw-cancel', 'transfer']]) {
        processor.commit(busy);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(reads, 1, `no round for ${busy.join(', ')}`);
      }
      processor.commit(['withdraw', 'approve']);
      await waitFor('a round for an approval', () => reads === 2, 5_000);
      processor.commit(['override-propose']);
      await waitFor('a round for an override', () => reads === 3, 5_000);
    } finally {
      abort.abort();
      await running;
    }
  });
});
