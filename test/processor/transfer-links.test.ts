/** TransferLinks: what a channel processor submits to link its channel and configure the migration. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import type { ChannelProcessor } from '../../relayer/processor/processor.ts';
import { TransferLinks } from '../../relayer/processor/transfer-links.ts';
import type { ChannelStore } from '../../relayer/store/channel-store.ts';

describe('TransferLinks.ensureLinks', () => {
  it('is not done while the migration chain is unregistered, and sends the link and the config once it is', async () => {
    const records = new Map<string, unknown>();
    const sent: string[] = [];
    const store = {
      record: (key: string) => Promise.resolve(records.get(key) ?? null),
      noncesOf: () => Promise.resolve({}),
      recordsWithStatus: () => Promise.resolve([]),
    } as unknown as ChannelStore;
    const processor = {
      isLeader: true,
      submit: (tx: { type: string }) => {
        sent.push(tx.type);
        return Promise.resolve({});
      },
    } as unknown as ChannelProcessor;
    const links = new TransferLinks({
      processor,
      store,
      context: { network: 'devnet', channel: 'bridge', addressPrefix: 'klxd' },
      producer: Ed25519Signer.fromSeedHex('11'.repeat(32)),
      links: [{ peer: 'main', peerProducer: '22'.repeat(32), coordinator: 'klxd1coordinator', maxAmount: '100' }],
      migration: { chain: 'ethereum', hubAsset: 'KLX', coordinator: 'klxd1coordinator', cap: '1000', premint: '0', perTransfer: '10', per24h: '100' },
      coordinatorUrl: 'http://127.0.0.1:1',
      resolverAfterMs: 1000,
    });
    const submit = processor.submit.bind(processor);
    (processor as unknown as { submit: typeof submit }).submit = (tx) => {
      const body = (tx as unknown as { body: { peer?: string } }).body;
      if (tx.type === 'channel-link') records.set(`xlink/${body.peer ?? ''}`, body);
      return submit(tx);
    };
    assert.equal(await links.ensureLinks(), null, 'the migration config waits for the chain: not done yet');
    assert.deepEqual(sent, ['channel-link'], 'the link does not wait');
    records.set('chain/ethereum', { name: 'ethereum' });
    assert.equal(await links.ensureLinks(), 1);
    assert.deepEqual(sent, ['channel-link', 'migration-config']);
  });
});
