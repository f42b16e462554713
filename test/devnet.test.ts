/**
 * `npm run devnet` end to end: both channels serve, a transfer lands, the EVM chains are
 * deployed with their records written, the demo bridges both ways (Ethereum's ERC20 KLX
 * through the coordinator's migration) and moves KLX between the channels, and Ctrl-C
 * (SIGTERM) stops everything it started.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { readEvmDeployment } from '../adapters/evm/deployment.ts';
import { ChannelClient } from '../relayer/node/client.ts';
import { signTx } from '../relayer/ledger/transaction.ts';
import { devnetAddress, devnetUser } from '../relayer/devnet/devnet-config.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { waitFor } from './helpers/processes.ts';

const MAIN = fileURLToPath(new URL('../relayer/devnet/main.ts', import.meta.url));
const DEMO = fileURLToPath(new URL('../relayer/devnet/demo.ts', import.meta.url));

describe('npm run devnet', () => {
  let db: TestDatabase;
  let child: ChildProcess;
  let output = '';
  let api: string;
  const dir = mkdtempSync(join(tmpdir(), 'klx-devnet-'));

  before(async () => {
    db = await createTestDatabase('devnet');
    // The API port is chosen by the OS (0) and read from what the devnet prints; the EVM
    // nodes take two consecutive ports below the ephemeral range.
    const evmPort = 20000 + 2 * Math.floor(Math.random() * 4000);
    child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', KLX_API_PORT: '0', KLX_DEVNET_DIR: dir, KLX_DEVNET_EVM_PORT: String(evmPort), KLX_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the test can always stop the whole tree it started
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor('the devnet to run (or exit)', () => child.exitCode !== null || output.includes('KLX devnet is running'), 90_000);
    assert.equal(child.exitCode, null, `the devnet exited early: ${output.slice(-1500)}`);
    const url = /channel node API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    assert.ok(url, output);
    api = url;
  });
  after(async () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the devnet's process group: itself and the nodes it started
      } catch {
        /* already gone */
      }
    }
    await db?.drop();
  });

  it('serves both channels, lands a transfer, deploys both EVM chains, bridges both ways on each (demo), and stops cleanly', async () => {
    const health = (await (await fetch(`${api}/health`)).json()) as { channels: { channel: string; producing: boolean }[] };
    assert.deepEqual(health.channels.map((c) => [c.channel, c.producing]), [['bridge', true], ['main', true]]);
    const client = new ChannelClient(api, 'main');
    const tx = signTx({ network: 'devnet', channel: 'main', type: 'transfer', sender: devnetAddress('alice'), lane: 0, nonce: 0n, body: { to: devnetAddress('bob'), asset: 'KLX', amount: 5n, memo: '' } }, devnetUser('alice'));
    const receipt = await client.submit(tx);
    assert.equal(receipt.channel, 'main');
    assert.equal((await client.balances(devnetAddress('bob'))).balances.KLX, '1000000000000005');
    const eth = readEvmDeployment(join(dir, 'deployments', 'ethereum.json'));
    const pol = readEvmDeployment(join(dir, 'deployments', 'polygon.json'));
    assert.deepEqual([eth.chainId, eth.klxKind, pol.chainId, pol.klxKind], [1, 'erc20', 137, 'bridged']);
    const rpc = output.match(/ethereum\s+(http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    assert.ok(rpc, output);
    const code = (await (await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getCode', params: [eth.bridge, 'latest'] }) })).json()) as { result: string };
    assert.ok(code.result.length > 1000, 'the bridge has code on the devnet chain');

    // The demo bridges both ways on both chains through every role process.
    const demo = spawn(process.execPath, ['--import', 'tsx', DEMO], { env: { ...process.env, KLX_DEVNET_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let demoOut = '';
    demo.stdout?.on('data', (d: Buffer) => (demoOut += d.toString()));
    demo.stderr?.on('data', (d: Buffer) => (demoOut += d.toString()));
    const demoCode = await new Promise<number | null>((r) => demo.once('exit', (c) => r(c)));
    assert.equal(demoCode, 0, demoOut.slice(-3000));
    assert.match(demoOut, /ethereum\s+event \d+: migration/, 'ERC20 KLX opens a migration');
    assert.match(demoOut, /ethereum\s+migration \d+: committed \(coordinator transfer \d+\.\d+\)/);
    assert.match(demoOut, /ethereum\s+action 1: executed on chain/);
    assert.match(demoOut, /polygon\s+action 1: executed on chain/);
    assert.match(demoOut, /polygon\s+event \d+: credited/);
    assert.match(demoOut, /channels\s+transfer \d+\.\d+: bridge committed, main committed/);

    child.kill('SIGTERM');
    const exitCode = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(exitCode, 0, output.slice(-2000));
    await assert.rejects(fetch(rpc, { method: 'POST', body: '{}' }), 'the devnet stopped its EVM nodes');
    await assert.rejects(fetch(`${api}/health`), 'the API is gone');
  });
});
