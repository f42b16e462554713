/** ChannelStore.loadState: what a process reads back from its own store before trusting it in memory. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keys, readRecord } from '../../relayer/ledger/bridge-state.ts';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { migrate } from '../../relayer/store/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('ChannelStore.loadState', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('channel_store');
    const c = await db.pool.connect();
    try {
      await migrate(c, 'hub');
    } finally {
      c.release();
    }
  });
  after(async () => db?.drop());

  const put = (key: string, text: string) =>
    db.pool.query(`INSERT INTO hub.entries (channel, key, value, updated_height) VALUES ('bridge', $1, $2, 0) ON CONFLICT (channel, key) DO UPDATE SET value = EXCLUDED.value`, [key, Buffer.from(text)]);

  it('loads canonical records, and refuses a stored record in any other spelling (reads then skip the check)', async () => {
    const store = new ChannelStore(db.pool, 'hub', 'bridge');
    await put(keys.action('ethereum', 1), '{"actionId":"1","status":"signed"}');
    const state = await store.loadState();
    assert.deepEqual(readRecord(state, keys.action('ethereum', 1)), { actionId: '1', status: 'signed' });
    await put(keys.action('ethereum', 2), '{"status":"signed","actionId":"2"}');
    await assert.rejects(store.loadState(), /action\/ethereum\/2 is not canonical JSON/);
    await put(keys.action('ethereum', 2), '{"actionId": "2"}');
    await assert.rejects(store.loadState(), /not canonical JSON/);
  });
});
