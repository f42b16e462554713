/**
 * `npm run bench`: hub ledger throughput and acknowledgement latency, each printed next
 * to a baseline measured in the same run on the same server (raw PostgreSQL
 * single-row commits). Refuses to report if the server runs with fsync or
 * synchronous_commit off, since "durable" would then be a lie.
 *
 * Figures:
 *  1. raw PostgreSQL: single-row INSERT commits/s, one client (autocommit);
 *  2. durable blocks/s of one channel under saturating load, in-process submit;
 *  3. the same through the HTTP API (what clients see);
 *  4. p50/p99 acknowledgement latency at a fixed offered load of 1,000 tx/s over HTTP.
 */
import { ChannelProcessor } from '../../relayer/processor/processor.ts';
import type { SignedTx } from '../../relayer/ledger/transaction.ts';
import { context, genesisFor, producerKey, transfer, user } from '../helpers/channel.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { ProcessorCluster } from '../helpers/cluster.ts';
import { ChannelClient } from '../../relayer/node/client.ts';
import { readdirSync } from 'node:fs';
import { procStat } from './cpu-meter.ts';
import { request, Agent } from 'node:http';
import { cpus } from 'node:os';
import { txToJson } from '../../relayer/ledger/transaction.ts';

/** A lean HTTP client for load generation (keep-alive, bodies serialised before the clock starts). */
class RawPoster {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512 });
  private readonly url: URL;
  private readonly bodies = new Map<SignedTx, string>();
  constructor(url: string) {
    this.url = new URL(url);
  }
  prepare(txs: SignedTx[]): void {
    for (const tx of txs) this.bodies.set(tx, JSON.stringify(txToJson(tx)));
  }
  submit(tx: SignedTx): Promise<void> {
    const body = this.bodies.get(tx) ?? JSON.stringify(txToJson(tx));
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('error', reject);
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

const sender = user('bench-sender');
const sink = user('bench-sink');

function presign(lanes: number, perLane: number, laneOffset = 0): SignedTx[][] {
  return Array.from({ length: lanes }, (_, l) => Array.from({ length: perLane }, (_, n) => transfer(sender, sink.address, 1n, BigInt(n), { lane: l + laneOffset })));
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** CPU seconds used so far by the channel node process, each PostgreSQL process (by pid), and this process (Linux /proc). */
function cpuSeconds(serverPid: number): { server: number; postgres: Map<string, number>; loadgen: number } {
  const postgres = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d))) {
    const st = procStat(Number(pid));
    if (st?.comm === 'postgres') postgres.set(pid, st.cpu);
  }
  const own = process.cpuUsage();
  return { server: procStat(serverPid)?.cpu ?? 0, postgres, loadgen: (own.user + own.system) / 1e6 };
}

const OFFERED = 1000;
const SECONDS = 5;

/** Open-loop load at OFFERED tx/s for SECONDS; one lane per transaction so none waits for another. */
async function pacedLatencies(submit: (tx: SignedTx) => Promise<void>, laneOffset: number, prepare?: (txs: SignedTx[]) => void) {
  const paced = presign(OFFERED * SECONDS, 1, laneOffset).map((l) => l[0] as SignedTx);
  prepare?.(paced);
  const ms: number[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < paced.length; i++) {
    const wait = start + (i * 1000) / OFFERED - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    inflight.push(submit(paced[i] as SignedTx).then(() => void ms.push(performance.now() - sent)));
  }
  await Promise.all(inflight);
  return { ms, achieved: paced.length / ((performance.now() - start) / 1000) };
}

async function main(): Promise<void> {
  const db = await createTestDatabase('bench');
  let cluster: ProcessorCluster | undefined;
  try {
    const settings = await db.pool.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'server_version')",
    );
    const s = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
    console.log(`PostgreSQL ${s.server_version}: fsync=${s.fsync} synchronous_commit=${s.synchronous_commit}`);
    if (s.fsync !== 'on' || s.synchronous_commit === 'off') {
      console.error('refusing to report: fsync must be on and synchronous_commit not off for durable figures');
      process.exitCode = 1;
      return;
    }

    // 1. Baseline: raw single-row commits from one client.
    await db.pool.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v bytea NOT NULL)');
    const client = await db.pool.connect();
    const rawN = 3000;
    let t = performance.now();
    for (let i = 0; i < rawN; i++) await client.query('INSERT INTO bench_raw (v) VALUES ($1)', [Buffer.alloc(200, i & 0xff)]);
    const rawRate = rawN / ((performance.now() - t) / 1000);
    client.release();

    // 2. Durable blocks/s in-process (saturating: 256 lanes in flight).
    const inProc = presign(256, 24);
    const p = new ChannelProcessor({ databaseUrl: db.url, schema: 'inproc', context: context(), producer: producerKey(), genesis: genesisFor([sender], 10n ** 12n), instance: 'bench' });
    const run = p.start();
    while (!p.isLeader) await new Promise((r) => setTimeout(r, 10));
    t = performance.now();
    await Promise.all(inProc.map(async (lane) => { for (const tx of lane) await p.submit(tx); }));
    const inProcRate = (256 * 24) / ((performance.now() - t) / 1000);
    const inProcLatency = await pacedLatencies((tx) => p.submit(tx).then(() => undefined), 20_000);
    await p.stop();
    await run;

    // 3 and 4 go through the HTTP API of a channel node running in its own process
    // (as in production), so the load generator does not share its core.
    cluster = new ProcessorCluster(db, [sender]);
    const nodeProc = await cluster.add('bench-node');
    await cluster.leader();
    const api = new RawPoster(`${nodeProc.url}/v1/channels/bridge/transactions`);
    const httpLoad = presign(128, 24);
    api.prepare(httpLoad.flat());
    const cpu0 = cpuSeconds(nodeProc.proc.pid);
    t = performance.now();
    await Promise.all(httpLoad.map(async (lane) => { for (const tx of lane) await api.submit(tx); }));
    const httpRate = (128 * 24) / ((performance.now() - t) / 1000);
    const cpu1 = cpuSeconds(nodeProc.proc.pid);
    let pgSeconds = 0; // processes that lived through the whole measurement (the node's sessions, background workers)
    for (const [pid, s] of cpu1.postgres) pgSeconds += s - (cpu0.postgres.get(pid) ?? s);
    const used = { server: cpu1.server - cpu0.server, postgres: pgSeconds, loadgen: cpu1.loadgen - cpu0.loadgen };
    const perKtx = (k: keyof typeof used) => ((used[k] / (128 * 24)) * 1000).toFixed(2);

    // Batches (the exchange path): 4 concurrent streams of 64-transaction batches.
    const batchClient = new ChannelClient(nodeProc.url, 'bridge');
    const streams = Array.from({ length: 4 }, (_, s) => presign(64, 20, 20_000 + s * 64));
    t = performance.now();
    await Promise.all(
      streams.map(async (lanes) => {
        for (let n = 0; n < 20; n++) {
          const r = await batchClient.submitBatch(lanes.map((l) => l[n] as SignedTx));
          if (!r.results.every((x) => x.ok)) throw new Error('a batched transaction was rejected');
        }
      }),
    );
    const batchRate = (4 * 64 * 20) / ((performance.now() - t) / 1000);
    const httpLatency = await pacedLatencies((tx) => api.submit(tx), 1000, (txs) => api.prepare(txs));
    await cluster.stop();

    const f = (n: number) => n.toFixed(0).padStart(7);
    console.log('');
    console.log('figure                                              value   vs raw PG commits/s');
    console.log(`raw PostgreSQL single-row commits/s (1 client)   ${f(rawRate)}   1.00x`);
    console.log(`durable blocks/s, one channel, in-process        ${f(inProcRate)}   ${(inProcRate / rawRate).toFixed(2)}x`);
    console.log(`durable blocks/s, one channel, over HTTP         ${f(httpRate)}   ${(httpRate / rawRate).toFixed(2)}x`);
    console.log(`durable blocks/s, one channel, HTTP batches of 64 ${f(batchRate)}   ${(batchRate / rawRate).toFixed(2)}x`);
    console.log(`CPU seconds per 1,000 tx over HTTP: channel node ${perKtx('server')}, PostgreSQL ${perKtx('postgres')}, load generator ${perKtx('loadgen')} (${cpus().length} cores shared)`);
    for (const [where, l] of [['in-process', inProcLatency], ['over HTTP', httpLatency]] as const) {
      console.log(`ack latency at ${OFFERED} tx/s offered, ${where.padEnd(10)} (achieved ${l.achieved.toFixed(0)} tx/s): p50 ${pct(l.ms, 50).toFixed(1)} ms, p99 ${pct(l.ms, 99).toFixed(1)} ms, max ${Math.max(...l.ms).toFixed(1)} ms`);
    }
    console.log(`targets: >= 2000 durable blocks/s per channel; p99 <= 50 ms at 1000 tx/s`);
  } finally {
    await cluster?.stop(); // the channel node process is ours: never leave it running
    await db.drop();
  }
}

await main();
