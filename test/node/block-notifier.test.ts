import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlockNotifier } from '../../relayer/node/block-notifier.ts';
import { BLOCKS_NOTIFY_CHANNEL } from '../../relayer/store/channel-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/processes.ts';

describe('BlockNotifier', () => {
  let db: TestDatabase;
  let notifier: BlockNotifier;
  before(async () => {
    db = await createTestDatabase('notifier');
    notifier = new BlockNotifier(db.url);
    await notifier.start();
  });
  after(async () => {
    await notifier.stop();
    await db.drop();
  });

  const commit = (schema: string, channel: string, height: number) => db.pool.query(`SELECT pg_notify($1, $2)`, [BLOCKS_NOTIFY_CHANNEL, `${schema}:${channel}:${height}`]);

  it('wakes a waiter at once for a commit it missed between reading and waiting', async () => {
    const seen = notifier.version('s', 'bridge');
    await commit('s', 'bridge', 1); // lands before the stream starts to wait
    await waitFor('notification', () => Promise.resolve(notifier.version('s', 'bridge') !== seen), 10_000);
    const woke = await Promise.race([
      notifier.waitForBlock('s', 'bridge', 600_000, undefined, seen).then(() => 'woke'),
      new Promise<string>((r) => setTimeout(() => r('still waiting'), 5_000).unref()),
    ]);
    assert.equal(woke, 'woke');
  });

  it('counts commits per schema and channel, and waits for the next one when nothing was missed', async () => {
    const before = notifier.version('s', 'other');
    await commit('t', 'other', 1); // another schema's channel of the same name
    const seen = notifier.version('s', 'other');
    const waiting = notifier.waitForBlock('s', 'other', 600_000, undefined, seen).then(() => 'woke');
    await commit('s', 'other', 2);
    assert.equal(await waiting, 'woke');
    assert.equal(notifier.version('s', 'other'), before + 1);
  });
});
