/** Start-up configuration: a bad value exits non-zero with the reason; secrets never appear in output. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../relayer/config/config.ts';
import { ConfigError } from '../../relayer/ledger/errors.ts';
import { user } from '../helpers/channel.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testConfig, producerEnv } from '../helpers/node.ts';
import { ProcessGroup, runCli, waitFor, writeTempJson } from '../helpers/processes.ts';

const good = () => testConfig('postgres://postgres:s3cr3t-pw@127.0.0.1:1/none', [user('cfg')]);

describe('config validation', () => {
  it('accepts a good config and applies environment overrides', () => {
    const cfg = parseConfig(good(), { KLX_API_PORT: '9999', DATABASE_URL: 'postgres://x@y/z' });
    assert.equal(cfg.api.port, 9999);
    assert.equal(cfg.databaseUrl, 'postgres://x@y/z');
  });

  const bad: [string, (c: Record<string, unknown>) => unknown, RegExp][] = [
    ['unknown field', (c) => ({ ...c, surprise: true }), /surprise/],
    ['bad network name', (c) => ({ ...c, network: 'Dev Net' }), /network/],
    ['bad database URL', (c) => ({ ...c, databaseUrl: 'mysql://x' }), /databaseUrl/],
    ['no channels', (c) => ({ ...c, channels: [] }), /channels/],
    ['bad allocation address', (c) => ({ ...c, channels: [{ ...(c.channels as object[])[0], genesis: { timestampMs: '1', assets: [{ id: 'KLX', decimals: 9 }], allocations: [{ address: 'klxd1nope', asset: 'KLX', amount: '1' }] } }] }), /allocations\.0\.address/],
    ['float amount', (c) => ({ ...c, channels: [{ ...(c.channels as object[])[0], genesis: { timestampMs: '1', assets: [{ id: 'KLX', decimals: 9 }], allocations: [{ address: user('x').address, asset: 'KLX', amount: '1.5' }] } }] }), /amount/],
  ];
  for (const [name, mutate, reason] of bad) {
    it(`refuses ${name} with the field named`, () => {
      assert.throws(() => parseConfig(mutate(good()), {}), (e) => e instanceof ConfigError && reason.test(e.message));
    });
  }

  it('`klx-bridge processor` exits 2 with the reason on a bad config, without echoing secrets', async () => {
    const path = writeTempJson('bad.json', { ...good(), api: { port: 70000 } });
    const r = await runCli(['processor', '--config', path], { ...producerEnv(), DATABASE_URL: '' });
    assert.equal(r.code, 2);
    assert.match(r.output, /api\.port/);
    assert.doesNotMatch(r.output, /s3cr3t-pw/);
  });

  it('a role refuses a malformed KLX_SCHEMA_LOCK_WAIT_MS (exit 2) before it connects anywhere', async () => {
    const path = writeTempJson('cfg.json', good());
    const r = await runCli(['listener', '--config', path], { KLX_HUB_KEY: '11'.repeat(32), KLX_SCHEMA_LOCK_WAIT_MS: '10s', DATABASE_URL: '' });
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /KLX_SCHEMA_LOCK_WAIT_MS must be a whole number of milliseconds/);
    assert.doesNotMatch(r.output, /s3cr3t-pw/);
  });

  it('a malformed producer key is refused without printing it', async () => {
    const path = writeTempJson('cfg.json', good());
    const secretish = 'ab'.repeat(31) + 'zz';
    const r = await runCli(['processor', '--config', path], { KLX_PRODUCER_KEY_BRIDGE: secretish, DATABASE_URL: '' });
    assert.equal(r.code, 2);
    assert.match(r.output, /KLX_PRODUCER_KEY_BRIDGE does not hold a 32-byte hex ed25519 seed/);
    assert.ok(!r.output.includes(secretish));
  });

  it('a running processor never logs its key or database password', async () => {
    const db = await createTestDatabase('cfg_secrets');
    const url = new URL(db.url);
    url.password = 'never-log-me';
    const path = writeTempJson('cfg.json', { ...good(), databaseUrl: url.toString(), api: { host: '127.0.0.1', port: 0 }, log: { level: 'trace' } });
    const env = { ...producerEnv(), DATABASE_URL: url.toString() };
    const group = new ProcessGroup();
    const p = group.start(['processor', '--config', path], env);
    try {
      const port = await waitFor('the processor to listen', () => /"port":(\d+)[^\n]*"msg":"channel node API listening"/.exec(p.output())?.[1]);
      await waitFor('the processor to serve', async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok);
      await waitFor('leader election logged', () => p.output().includes('elected block producer'));
    } finally {
      process.kill(p.pid, 'SIGTERM');
      await p.exited;
      await group.stopAll();
      await db.drop();
    }
    const seed = producerEnv().KLX_PRODUCER_KEY_BRIDGE as string;
    assert.match(p.output(), /channel node API listening/);
    assert.ok(!p.output().includes(seed), 'the producer seed appeared in output');
    assert.ok(!p.output().includes('never-log-me'), 'the database password appeared in output');
  });

  it('`klx-bridge coordinator` exits 2 with the reason: no coordinator section, a bad address, a key that is not its address (never printed)', async () => {
    const none = await runCli(['coordinator', '--config', writeTempJson('cfg.json', good())], { DATABASE_URL: '' });
    assert.equal(none.code, 2);
    assert.match(none.output, /no coordinator section/);
    const bad = await runCli(['coordinator', '--config', writeTempJson('cfg.json', { ...good(), coordinator: { address: 'klxd1nope' } })], { DATABASE_URL: '' });
    assert.equal(bad.code, 2);
    assert.match(bad.output, /coordinator\.address/);
    const key = 'cd'.repeat(32);
    const other = await runCli(['coordinator', '--config', writeTempJson('cfg.json', { ...good(), coordinator: { address: user('cfg').address } })], { DATABASE_URL: '', KLX_COORDINATOR_KEY: key });
    assert.equal(other.code, 2);
    assert.match(other.output, /does not match coordinator\.address/);
    assert.ok(!other.output.includes(key), 'the key appeared in output');
  });
});
