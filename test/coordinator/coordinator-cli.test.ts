/**
 * The coordinator as operators and users run it (issue 6): `klx-bridge processor` with two
 * channels links them to the coordinator; `klx-bridge coordinator` is killed with SIGKILL right
 * after forcing its commit decision (a crash drill point); the restarted coordinator (a new
 * epoch) delivers the commit; `xfer-status` shows every state; then a real SIGKILL at every
 * protocol point (each forced write and each message) followed by a restart ends each transfer
 * committed on both channels or aborted on both, conserved; bad input changes nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import type { XferRecord } from '../../relayer/ledger/xfer-rules.ts';
import { ChannelClient } from '../../relayer/node/client.ts';
import { PREFIX, user } from '../helpers/channel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { producerEnv, testConfig } from '../helpers/node.ts';
import { freePort, ProcessGroup, runCli, waitFor, writeTempJson, type OwnedProcess } from '../helpers/processes.ts';
import { CRASH_POINTS } from '../../coordinator/transfer-coordinator.ts';

const alice = user('ccli-alice');
const bob = user('ccli-bob');
const coordinatorKey = Ed25519Signer.devnet('ccli-coordinator');

describe('klx-bridge coordinator, xfer and xfer-status', () => {
  let db: TestDatabase;
  const group = new ProcessGroup();
  let hub = '';
  let coordinatorUrl = '';
  let config = '';
  let aliceKey = '';
  /** The coordinator a test left running (the next one stops it first). */
  let running: OwnedProcess | undefined;
  const coordinatorEnv = () => ({ DATABASE_URL: db.url, KLX_COORDINATOR_KEY: coordinatorKey.exportSeedHex() });
  const bridge = () => new ChannelClient(hub, 'bridge');
  const main = () => new ChannelClient(hub, 'main');

  before(async () => {
    db = await createTestDatabase('coord_cli');
    const [apiPort, coordinatorPort] = [await freePort(), await freePort()];
    hub = `http://127.0.0.1:${apiPort}`;
    coordinatorUrl = `http://127.0.0.1:${coordinatorPort}`;
    config = writeTempJson('coordinator.json', testConfig(db.url, [alice, bob], ['bridge', 'main'], {
      log: { level: 'info' },
      api: { host: '127.0.0.1', port: apiPort },
      hubUrl: hub,
      coordinator: { address: addressFromPublicKey(PREFIX, coordinatorKey.publicKey), api: { host: '127.0.0.1', port: coordinatorPort }, url: coordinatorUrl, voteTimeoutMs: 3000, resolverAfterMs: 500 },
    }));
    aliceKey = join(tmpdir(), `ccli-alice-${process.pid}.key`);
    writeFileSync(aliceKey, alice.key.exportSeedHex());
    group.start(['processor', '--config', config], { ...producerEnv(['bridge', 'main']), DATABASE_URL: db.url });
    await waitFor('both channels linked', async () => (await bridge().bridgeRecordAt('xlink/main').catch(() => null)) !== null && (await main().bridgeRecordAt('xlink/bridge').catch(() => null)) !== null);
  });
  after(async () => {
    await group.stopAll();
    await db?.drop();
  });

  it('a coordinator killed right after forcing commit: the restarted one (new epoch) delivers it; the status shows every state', async () => {
    const first = group.start(['coordinator', '--config', config], { ...coordinatorEnv(), KLX_COORDINATOR_CRASH_AT: 'decided:commit' });
    await waitFor('coordinator active', () => /coordinator active/.test(first.output()));
    const sent = await runCli(['xfer', 'main', bob.address, '250', '--channel', 'bridge', '--key-file', aliceKey, '--coordinator', coordinatorUrl, '--node', hub]);
    assert.equal(sent.code, 0, sent.output);
    const { id } = JSON.parse(sent.output.trim().split('\n')[0] ?? '{}') as { id: string };
    assert.match(id, /^1\.1$/);
    await first.exited;
    assert.match(first.output(), /every participant voted yes/);
    const prepared = await main().bridgeRecordAt<XferRecord>(`xfer/${id}`);
    assert.equal(prepared.status, 'prepared', 'killed before any commit was delivered');
    const second = group.start(['coordinator', '--config', config], coordinatorEnv());
    running = second;
    await waitFor('coordinator active again', () => /"epoch":"2"[^\n]*coordinator active/.test(second.output()));
    await waitFor('committed on both channels', async () => (await main().bridgeRecordAt<XferRecord>(`xfer/${id}`)).status === 'committed' && (await bridge().bridgeRecordAt<XferRecord>(`xfer/${id}`)).status === 'committed');
    assert.equal((await bridge().balances(alice.address)).balances.KLX, '999999750');
    assert.equal((await main().balances(bob.address)).balances.KLX, '1000000250');
    const status = await runCli(['xfer-status', id, '--coordinator', coordinatorUrl]);
    assert.equal(status.code, 0, status.output);
    const s = JSON.parse(status.output) as { history: { step: string }[]; participants: Record<string, XferRecord> };
    assert.deepEqual(s.history.map((h) => h.step).filter((x) => x !== 'forgotten').slice(0, 2), ['initiated', 'decided commit']);
    assert.equal(s.participants.bridge?.status, 'committed');
    const waited = await runCli(['xfer', 'bridge', alice.address, '5', '--channel', 'main', '--key-file', aliceKey, '--coordinator', coordinatorUrl, '--node', hub, '--wait']);
    assert.equal(waited.code, 0, waited.output);
    assert.match(waited.output, /"outcome":"committed"/);
  });

  it('SIGKILL at every protocol point, then a restart: each transfer ends committed on both channels or aborted on both, the total conserved', async () => {
    const total = async () => {
      let sum = 0n;
      for (const c of [bridge(), main()]) for (const who of [alice, bob]) sum += BigInt((await c.balances(who.address)).balances.KLX ?? '0');
      return sum;
    };
    const start = await total();
    const activeEpoch = async (p: OwnedProcess) => {
      await waitFor('coordinator active', () => p.child.exitCode !== null || /coordinator active/.test(p.output()));
      return /"epoch":"(\d+)"[^\n]*coordinator active/.exec(p.output())?.[1] ?? '';
    };
    for (const point of CRASH_POINTS) {
      running?.child.kill('SIGKILL'); // one coordinator at a time: the crashing one must hold the lock
      await running?.exited;
      // The abort points are reached through a no vote (more than alice holds); the others through a commit.
      const abortPath = point.startsWith('decided:abort') || point.startsWith('aborted:');
      const expected = abortPath || point === 'initiated' || point.startsWith('prepared:') ? 'aborted' : 'committed';
      const crashing = group.start(['coordinator', '--config', config], { ...coordinatorEnv(), KLX_COORDINATOR_CRASH_AT: point });
      const epoch = await activeEpoch(crashing);
      const before = (await bridge().balances(alice.address)).balances.KLX ?? '0';
      const amount = abortPath ? (BigInt(before) + 1n).toString() : '7';
      await runCli(['xfer', 'main', bob.address, amount, '--channel', 'bridge', '--key-file', aliceKey, '--coordinator', coordinatorUrl, '--node', hub]); // may die with the coordinator
      assert.equal(await crashing.exited, null, `${point}: the coordinator SIGKILLed itself there`);
      const id = `${epoch}.1`;
      running = group.start(['coordinator', '--config', config], coordinatorEnv());
      await activeEpoch(running);
      let seen: string[] = [];
      const outcome = await waitFor(`${point}: transfer ${id} decided on both channels`, async () => {
        const [s, t] = (seen = await Promise.all([bridge(), main()].map((c) => c.bridgeRecordAt<XferRecord>(`xfer/${id}`).then((x) => x.status, () => 'none'))));
        if (s === 'committed' && t === 'committed') return 'committed';
        if (s === 'aborted' && t !== 'prepared' && t !== 'committed') return 'aborted';
        return null;
      }, 30_000).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}: bridge ${seen[0]}, main ${seen[1]}; crashed coordinator:\n${crashing.output().slice(-1500)}\nrestarted:\n${running?.output().slice(-1500)}`);
      });
      assert.equal(outcome, expected, point);
      const after = (await bridge().balances(alice.address)).balances.KLX ?? '0';
      assert.equal(BigInt(after), BigInt(before) - (outcome === 'committed' ? 7n : 0n), `${point}: alice paid exactly what was committed`);
      assert.equal(await total(), start, `${point}: conserved`);
      // Done only once the coordinator forgets it (after the acknowledgements of an abort); the next crashing coordinator starts with an empty log.
      await waitFor(`${point}: transfer ${id} forgotten`, async () => ((await (await fetch(`${coordinatorUrl}/v1/transfers/${id}`)).json()) as { coordinator?: string }).coordinator === 'forgotten');
    }
  });

  it('bad input: unknown channel, malformed recipient, zero amount, unknown id → a clear error, nothing changes', async () => {
    const before = (await bridge().balances(alice.address)).balances.KLX;
    for (const [args, code] of [
      [['nowhere', bob.address, '5'], 'UNKNOWN_CHANNEL'],
      [['main', 'klxd1broken', '5'], 'BAD_ADDRESS'],
      [['main', bob.address, '0'], 'BAD_AMOUNT'],
    ] as const) {
      const r = await runCli(['xfer', ...args, '--channel', 'bridge', '--key-file', aliceKey, '--coordinator', coordinatorUrl, '--node', hub]);
      assert.notEqual(r.code, 0);
      assert.match(r.output, new RegExp(code));
    }
    const unknown = await runCli(['xfer-status', '1.999', '--coordinator', coordinatorUrl]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.output, /NEVER_ISSUED/);
    assert.equal((await bridge().balances(alice.address)).balances.KLX, before);
  });
});
