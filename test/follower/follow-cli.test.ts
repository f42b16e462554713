/** `klx-bridge follow` as operators run it: its own schema, its own /health and /metrics, a clean stop. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { transfer, user } from '../helpers/channel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestNode, testConfig } from '../helpers/node.ts';
import { ProcessGroup, waitFor, writeTempJson } from '../helpers/processes.ts';

describe('klx-bridge follow', () => {
  const [alice, bob] = [user('fc-alice'), user('fc-bob')];
  let db: TestDatabase;
  let node: Awaited<ReturnType<typeof startTestNode>>;
  const group = new ProcessGroup();
  before(async () => {
    db = await createTestDatabase('follow_cli');
    node = await startTestNode(db, [alice, bob]);
  });
  after(async () => {
    await group.stopAll();
    await node?.stop();
    await db?.drop();
  });

  it('verifies the live chain into its own schema and reports its height on /health and /metrics', async () => {
    const config = writeTempJson('follow.json', testConfig(db.url, [alice, bob], ['bridge'], { log: { level: 'info' } }));
    const p = group.start(['follow', '--config', config, '--source', node.url, '--channel', 'bridge', '--schema', 'observer_cli', '--status-port', '0'], { DATABASE_URL: db.url });
    const port = await waitFor('the status endpoint', () => /"port":(\d+)[^\n]*"msg":"follower status endpoint listening"/.exec(p.output())?.[1]);
    for (let n = 0n; n < 10n; n++) await node.client().submit(transfer(alice, bob.address, 1n, n));
    const health = await waitFor('height 10 on /health', async () => {
      const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string; height: string };
      return h.height === '10' ? h : undefined;
    });
    assert.equal(health.status, 'ok');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /klx_head_height\{channel="bridge",role="follower"\} 10/);
    assert.equal(await new ChannelStore(db.pool, 'observer_cli', 'bridge').headHeight(), 10n, 'stored in its own schema');
    process.kill(p.pid, 'SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('refuses to use the processors\' schema', async () => {
    const config = writeTempJson('follow.json', testConfig(db.url, [alice, bob]));
    const p = group.start(['follow', '--config', config, '--source', node.url, '--channel', 'bridge', '--schema', 'hub'], { DATABASE_URL: db.url });
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /its own schema/);
  });
});
