/**
 * The bridge under faults, every role a separate process: a deposit reorged away before
 * its depth, the submitter killed between send and receipt, Redis losing everything
 * mid-flow, a flaky RPC under the submitter, a reorg of an attested block, a second
 * process on a listener's schema, a lost schema lock, and a listener fed a forged hub block.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseAbiItem, type Address } from 'viem';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { devnetAddress, devnetRoleEnv, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import type { ActionRecord, EventRecord } from '../../relayer/ledger/bridge-state.ts';
import { bridgeRecord, depositErc20, erc20Balance, startBridgeDevnet, type BridgeDevnet } from '../helpers/bridge-devnet.ts';
import { runCli, waitFor } from '../helpers/processes.ts';
import { startOwnedRedis, type OwnedRedis } from '../helpers/redis.ts';

const alice = devnetAddress('alice');
const EXECUTED = parseAbiItem('event ActionExecuted(uint64 indexed actionId, bytes32 indexed payloadHash, uint8 kind, address token, address recipient, uint256 amount, bool paid, uint64 eventId)');

describe('bridge under faults (EVM)', () => {
  let d: BridgeDevnet;
  let redis: OwnedRedis;
  let nonce = 0n;
  const withdraw = async (chain: string, amount: bigint, recipient: string) => {
    const tx = signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender: alice, lane: 0, nonce, body: { chain, asset: 'KLX', amount: amount.toString(), recipient } }, devnetUser('alice'));
    await d.hub.submit(tx);
    nonce++;
  };
  const settled = (chain: string, id: bigint) =>
    waitFor(`action ${chain}/${id} settled`, async () => {
      const a = await bridgeRecord<ActionRecord>(d, `action/${chain}/${id}`);
      return a && a.status !== 'created' && a.status !== 'signed' ? a : null;
    }, 90_000);
  const nextActionId = async (chain: string) => BigInt((await bridgeRecord<{ cursor: { nextActionId: string } }>(d, `chain/${chain}`))?.cursor.nextActionId ?? '0');
  const executions = async (chain: 'ethereum' | 'polygon') => {
    const side = d.evm[chain];
    const logs = await side.public.getLogs({ address: side.chain.deployment.bridge, event: EXECUTED, fromBlock: 0n, toBlock: 'latest' });
    return logs.map((l) => l.args.actionId as bigint);
  };

  before(async () => {
    redis = await startOwnedRedis();
    d = await startBridgeDevnet('faults', { redisUrl: `redis://127.0.0.1:${redis.port}` });
    // Custody for the withdrawals below: 1,000 ERC20 KLX deposited on Ethereum.
    const eth = d.evm.ethereum;
    const before = BigInt((await d.hub.balances(alice)).balances.KLX ?? '0');
    await depositErc20(eth, eth.treasury, eth.chain.deployment.klxToken as Address, 1000n * 10n ** 18n, alice);
    await waitFor('custody deposit credited', async () => BigInt((await d.hub.balances(alice)).balances.KLX ?? '0') === before + 1000n * 10n ** 9n, 60_000);
    nonce = await d.hub.nextNonce(alice);
  });
  after(async () => {
    await d?.stop();
    await redis?.stop();
  });

  it('never credits a deposit reorganised away before its confirmation depth', async () => {
    const eth = d.evm.ethereum;
    const bob = devnetAddress('bob');
    const before = BigInt((await d.hub.balances(bob)).balances.KLX ?? '0');
    await d.pauseMining();
    const hash = await depositErc20(eth, eth.treasury, eth.chain.deployment.klxToken as Address, 7n * 10n ** 18n, bob);
    await new Promise((r) => setTimeout(r, 1500)); // listeners poll several times: the block is not final
    await eth.rpc('anvil_reorg', [1, []]);
    assert.equal(await eth.public.getTransactionReceipt({ hash }).catch(() => null), null, 'the deposit is gone from the chain');
    d.resumeMining();
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(BigInt((await d.hub.balances(bob)).balances.KLX ?? '0'), before);
    const events = await bridgeRecord<{ events: EventRecord[] }>(d, `events/ethereum?txHash=${hash}`);
    assert.deepEqual(events?.events, []);
  });

  it('lands an action exactly once when the submitter is killed between send and receipt', async () => {
    const eth = d.evm.ethereum;
    const user = eth.user.account?.address as Address;
    const token = eth.chain.deployment.klxToken as Address;
    const balanceBefore = await erc20Balance(eth, token, user);
    const id = await nextActionId('ethereum');
    await d.pauseMining();
    await eth.rpc('evm_setAutomine', [false]);
    const submitter = d.cluster.processes.get('submitter');
    assert.ok(submitter);
    const seen = submitter.output().length;
    await withdraw('ethereum', 10n ** 9n, user);
    await waitFor('the submitter to send', () => submitter.output().slice(seen).includes('"msg":"submitted"'), 60_000);
    await d.cluster.kill('submitter'); // the transaction sits in the mempool, unmined
    const restarted = d.cluster.restartRole('submitter');
    await new Promise((r) => setTimeout(r, 2000)); // the new submitter finds its pending record and waits for it
    await eth.rpc('evm_setAutomine', [true]);
    await eth.rpc('evm_mine');
    d.resumeMining();
    assert.equal((await settled('ethereum', id)).status, 'executed');
    assert.equal((await executions('ethereum')).filter((x) => x === id).length, 1);
    assert.equal(await erc20Balance(eth, token, user), balanceBefore + 10n ** 18n);
    assert.ok(!restarted.output().includes(`"first":"${id}"`) || !/"msg":"submitted".*"first":"\d+"/.test(restarted.output().split('\n').find((l) => l.includes(`"first":"${id}"`) && l.includes('"msg":"submitted"')) ?? ''), 'no second transaction for the same action');
  });

  it('completes every withdrawal exactly once, in ascending order, when Redis loses everything mid-flow', async () => {
    const user = d.evm.ethereum.user.account?.address as Address;
    const first = await nextActionId('ethereum');
    for (let i = 0; i < 10; i++) {
      await withdraw('ethereum', 10n ** 9n, user);
      if (i === 4) await redis.client.flushall();
    }
    await redis.client.flushall();
    for (let id = first; id < first + 10n; id++) assert.equal((await settled('ethereum', id)).status, 'executed');
    const ids = await executions('ethereum');
    assert.deepEqual(ids, ids.map((_, i) => BigInt(i + 1)), 'ids executed once each, ascending, no gaps');
  });

  it('keeps strict ascending order and exactly-once through a flaky RPC under the submitter', async () => {
    const eth = d.evm.ethereum;
    const flaky = await startFlakyRpc(eth.chain.rpcUrl);
    try {
      // The submitter alone talks to the chain through the flaky proxy.
      const cfg = JSON.parse(readFileSync(d.cluster.configFile, 'utf8')) as { evmChains: { name: string; rpcUrl: string }[] };
      for (const c of cfg.evmChains) if (c.name === 'ethereum') c.rpcUrl = flaky.url;
      const flakyConfig = d.cluster.configFile.replace(/\.json$/, '-flaky.json');
      writeFileSync(flakyConfig, JSON.stringify(cfg));
      await d.cluster.kill('submitter');
      d.cluster.startRole('submitter', ['submitter', '--config', flakyConfig, '--schema', `${d.schemaPrefix}submitter`], devnetRoleEnv('submitter'));
      const user = eth.user.account?.address as Address;
      const first = await nextActionId('ethereum');
      for (let i = 0; i < 15; i++) await withdraw('ethereum', 10n ** 9n, user);
      for (let id = first; id < first + 15n; id++) assert.equal((await settled('ethereum', id)).status, 'executed');
      const ids = await executions('ethereum');
      assert.deepEqual(ids, ids.map((_, i) => BigInt(i + 1)));
      assert.ok(flaky.failedBefore > 0 && flaky.failedAfter > 0, `faults were injected (${flaky.failedBefore} refused, ${flaky.failedAfter} answers lost)`);
    } finally {
      // Back to the direct RPC before the proxy goes away.
      await d.cluster.kill('submitter');
      d.cluster.restartRole('submitter');
      await flaky.close();
    }
  });

  it('halts a chain whose attested block is reorganised, until an operator clears it', async () => {
    const pol = d.evm.polygon;
    const user = pol.user.account?.address as Address;
    await withdraw('polygon', 2n * 10n ** 9n, user);
    const action = await settled('polygon', await nextActionId('polygon') - 1n);
    assert.equal(action.status, 'executed');
    const receipt = await pol.public.getTransactionReceipt({ hash: action.execution?.txHash as `0x${string}` });
    // Every listener's cursor moves above the execution's block first, so the reorg below changes attested blocks under the cursor too.
    await waitFor('listener cursors above the execution block', async () => {
      for (let i = 0; i < 5; i++) {
        const c = await d.db.pool.query<{ h: string }>(`SELECT block_height::text AS h FROM "${d.schemaPrefix}listener_${i}".listener_cursors WHERE chain = 'polygon'`);
        if (BigInt(c.rows[0]?.h ?? '0') <= receipt.blockNumber) return false;
      }
      return true;
    }, 30_000);
    // The tip is read with mining paused: a block mined in between would make the reorg too shallow to reach the receipt.
    await d.pauseMining();
    const latest = await pol.public.getBlockNumber();
    await pol.rpc('anvil_reorg', [Number(latest - receipt.blockNumber + 1n), []]);
    d.resumeMining();
    // Listeners that had attested the replaced block halt (a listener still behind it just reads the new chain).
    const halted = await waitFor('listeners to halt polygon', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const h = await d.db.pool.query(`SELECT reason FROM "${d.schemaPrefix}listener_${i}".listener_halts WHERE chain = 'polygon'`).catch(() => ({ rows: [] }));
        if (h.rows.length > 0) ids.push(i);
      }
      return ids.length >= 3 ? ids : null;
    }, 60_000);
    const first = halted[0] as number;
    // The halt names a changed block at or above the execution's (anvil applies a reorganisation block by block, so a
    // listener may halt before the lowest change is visible).
    const haltRow = await d.db.pool.query<{ h: string; reason: string }>(`SELECT block_height::text AS h, reason FROM "${d.schemaPrefix}listener_${first}".listener_halts WHERE chain = 'polygon'`);
    assert.ok(BigInt(haltRow.rows[0]?.h ?? '0') >= receipt.blockNumber, haltRow.rows[0]?.reason);
    /** The attested blocks the listener keeps that are not the chain's now, as "height:recorded/now". */
    const stale = async () => {
      const rows = await d.db.pool.query<{ h: string; hash: string }>(`SELECT block_height::text AS h, block_hash AS hash FROM "${d.schemaPrefix}listener_${first}".listener_attested_blocks WHERE chain = 'polygon' ORDER BY block_height`);
      const out: string[] = [];
      for (const r of rows.rows) {
        const now = (await pol.public.getBlock({ blockNumber: BigInt(r.h) }).catch(() => null))?.hash ?? 'none';
        if (now !== r.hash) out.push(`${r.h}:${r.hash.slice(0, 10)}/${now.slice(0, 10)}`);
      }
      return out;
    };
    const cursorHeight = async () =>
      BigInt((await d.db.pool.query<{ h: string }>(`SELECT block_height::text AS h FROM "${d.schemaPrefix}listener_${first}".listener_cursors WHERE chain = 'polygon'`)).rows[0]?.h ?? '0');
    const haltedAt = await cursorHeight();
    // Only an operator command clears a listener's halt.
    const cleared = await runCli(['listener-clear-halt', 'polygon', '--config', d.cluster.configFile, '--schema', `${d.schemaPrefix}listener_${first}`], {
      ...devnetRoleEnv(`listener-${first}`),
      DATABASE_URL: d.db.url,
    });
    assert.equal(cleared.code, 0, cleared.output);
    assert.match(cleared.output, /cleared the halt of polygon/);
    const rows = await d.db.pool.query(`SELECT 1 FROM "${d.schemaPrefix}listener_${first}".listener_halts WHERE chain = 'polygon'`);
    assert.equal(rows.rows.length, 0);
    // Clearing forgets every attested block the chain replaced, down to the execution's: none is left to name later.
    assert.deepEqual(await stale(), [], `the cleared listener keeps only blocks that are the chain's (halted at ${haltRow.rows[0]?.h}, execution in ${receipt.blockNumber}; ${cleared.output.trim()})`);
    // The cleared listener goes on along the new chain: its cursor moves past the fork instead of halting again.
    await waitFor('the cleared listener to advance on the new chain', async () => (await cursorHeight()) > haltedAt, 30_000);
    const again = await d.db.pool.query(`SELECT reason FROM "${d.schemaPrefix}listener_${first}".listener_halts WHERE chain = 'polygon'`);
    assert.deepEqual(again.rows, [], 'not halted again by the block it had already been halted for');
    // Ethereum is not affected.
    const eth = d.evm.ethereum;
    const id = await nextActionId('ethereum');
    await withdraw('ethereum', 10n ** 9n, eth.user.account?.address as Address);
    assert.equal((await settled('ethereum', id)).status, 'executed');
  });

  it('a second listener process on a running listener\'s schema refuses to start (SCHEMA_IN_USE)', async () => {
    const running = d.cluster.processes.get('listener-0');
    assert.ok(running && running.child.exitCode === null && running.child.signalCode === null);
    const args = ['listener', '--config', d.cluster.configFile, '--schema', `${d.schemaPrefix}listener_0`];
    const twin = d.cluster.startRole('listener-0-twin', args, { ...devnetRoleEnv('listener-0'), KLX_SCHEMA_LOCK_WAIT_MS: '300' });
    assert.equal(await exitWithin(twin.exited, 60_000), 1, twin.output().slice(-2000));
    assert.match(twin.output(), /SCHEMA_IN_USE: another process holds schema [a-z0-9_]*listener_0/);
    assert.ok(running.child.exitCode === null && running.child.signalCode === null, 'the running listener keeps going');
  });

  it('a listener whose schema lock session is lost stops, exit code 4', async () => {
    const p = d.cluster.startRole('lock-lost', ['listener', '--config', d.cluster.configFile, '--schema', `${d.schemaPrefix}lock_lost`], devnetRoleEnv('listener-0'));
    await waitFor('the listener to start', () => p.output().includes('"msg":"listener started"'), 60_000);
    const { rows } = await d.db.pool.query<{ pid: number }>(
      `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'lock-lost'`,
    );
    assert.equal(rows.length, 1, 'the role holds one advisory lock: its schema');
    await d.db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    assert.equal(await exitWithin(p.exited, 60_000), 4, p.output().slice(-2000));
    assert.match(p.output(), /schema lock's database session (failed|ended)/);
  });

  it('a listener fed a forged hub block refuses it and stops', async () => {
    const proxy = await startForgingHub(d.cluster.hubUrl, 2n);
    try {
      const cfg = JSON.parse(readFileSync(d.cluster.configFile, 'utf8')) as Record<string, unknown>;
      const forgedConfig = d.cluster.configFile.replace(/\.json$/, '-forged.json');
      writeFileSync(forgedConfig, JSON.stringify({ ...cfg, hubUrl: proxy.url }));
      const p = d.cluster.startRole('forged-listener', ['listener', '--config', forgedConfig, '--schema', `${d.schemaPrefix}forged_listener`], devnetRoleEnv('listener-0'));
      assert.equal(await exitWithin(p.exited, 60_000), 3, p.output().slice(-2000));
      assert.match(p.output(), /hub copy halted/);
      const stored = await d.db.pool.query<{ h: string | null }>(`SELECT max(height)::text AS h FROM "${d.schemaPrefix}forged_listener".blocks`);
      assert.equal(stored.rows[0]?.h, '1', 'nothing from the forged block on is stored');
    } finally {
      await proxy.close();
    }
  });
});

/** A process's exit code, or 'timeout' after `ms` (the timer does not outlive the answer). */
async function exitWithin(exited: Promise<number | null>, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A JSON-RPC proxy that refuses some sendRawTransaction calls (not forwarded) and loses some answers (forwarded). */
async function startFlakyRpc(target: string): Promise<{ url: string; failedBefore: number; failedAfter: number; close(): Promise<void> }> {
  const stats = { failedBefore: 0, failedAfter: 0 };
  let sends = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void (async () => {
        const isSend = body.includes('eth_sendRawTransaction');
        if (isSend) sends++;
        if (isSend && sends % 3 === 1) {
          stats.failedBefore++;
          res.writeHead(503).end('unavailable');
          return;
        }
        const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await upstream.text();
        if (isSend && sends % 3 === 2) {
          stats.failedAfter++;
          res.writeHead(502).end('bad gateway'); // sent, but the answer is lost
          return;
        }
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get failedBefore() {
      return stats.failedBefore;
    },
    get failedAfter() {
      return stats.failedAfter;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A channel node proxy that corrupts the producer signature of the block at `height` in the block stream. */
async function startForgingHub(target: string, height: bigint): Promise<{ url: string; close(): Promise<void> }> {
  const forge = (event: string) =>
    event.replace(/"key":"(\d+)"(.*)"raw":\{"body":"([0-9a-f]*)","signature":"([0-9a-f])/, (m, key: string, mid: string, body: string, first: string) =>
      BigInt(key) === height ? `"key":"${key}"${mid}"raw":{"body":"${body}","signature":"${first === '0' ? '1' : '0'}` : m,
    );
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const method = req.method ?? 'GET';
        const upstream = await fetch(`${target}${req.url ?? '/'}`, {
          method,
          headers: { accept: req.headers.accept ?? '*/*', 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(method === 'GET' ? {} : { body: Buffer.concat(chunks) }),
        });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        if (!upstream.body) return res.end();
        const decoder = new TextDecoder();
        let pending = '';
        for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
          pending += decoder.decode(chunk, { stream: true });
          // Whole SSE events (or whole JSON answers) only, so a message is never split while forging.
          const cut = pending.lastIndexOf('\n\n');
          if (cut < 0) continue;
          res.write(pending.slice(0, cut + 2).split('\n\n').map(forge).join('\n\n'));
          pending = pending.slice(cut + 2);
        }
        res.end(pending);
      })().catch(() => res.end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
