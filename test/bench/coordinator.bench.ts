/**
 * `npm run bench` (issue 6): inter-channel transfers through the coordinator, with a channel node
 * running both channels in this process (real processors, real PostgreSQL) reached over HTTP.
 * Prints transfers/s and p50/p99 latency (request → both channels decided), and the measured
 * messages per participant and coordinator forced writes per committed and per aborted
 * transfer, next to raw PostgreSQL forced (synchronous) single-row commits/s in the same run.
 */
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { parseConfig } from '../../relayer/config/config.ts';
import { ChannelNode } from '../../relayer/node/channel-node.ts';
import { ChannelClient } from '../../relayer/node/client.ts';
import { createLogger } from '../../relayer/observability/observability.ts';
import { HttpChannelPort } from '../../coordinator/channel-port.ts';
import { CoordinatorService } from '../../coordinator/coordinator-service.ts';
import { NETWORK, PREFIX, user } from '../helpers/channel.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { producerEnv, testConfig } from '../helpers/node.ts';

const COMMITTED = Number(process.env.BENCH_XFERS ?? 400);
const ABORTED = Math.ceil(COMMITTED / 4);
const senders = Array.from({ length: 20 }, (_, i) => user(`bench-x-${i}`));
const coordinatorKey = Ed25519Signer.devnet('bench-coordinator');
const coordinatorAddress = addressFromPublicKey(PREFIX, coordinatorKey.publicKey);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function main(): Promise<void> {
  const db = await createTestDatabase('bench_coordinator');
  Object.assign(process.env, producerEnv(['bridge', 'main']));
  const cfg = parseConfig(testConfig(db.url, senders, ['bridge', 'main'], { coordinator: { address: coordinatorAddress, maxTransfer: '100000' } }), {});
  const node = new ChannelNode(cfg, createLogger('silent'));
  const { port } = await node.start();
  const hub = `http://127.0.0.1:${port}`;
  const service = new CoordinatorService({
    databaseUrl: db.url, schema: 'coordinator', instance: 'bench', network: NETWORK, addressPrefix: PREFIX, voteTimeoutMs: 10_000,
    ports: new Map(['bridge', 'main'].map((c) => [c, new HttpChannelPort({ network: NETWORK, channel: c, addressPrefix: PREFIX }, hub, coordinatorKey, 16)])),
  });
  try {
    for (;;) {
      const linked = await Promise.all(['bridge', 'main'].map((c) => new ChannelClient(hub, c).bridgeRecordAt(`xlink/${c === 'bridge' ? 'main' : 'bridge'}`).catch(() => null)));
      if (linked.every((x) => x !== null)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Baseline: raw forced single-row commits on the same server.
    await db.pool.query('CREATE TABLE bench_raw (id serial PRIMARY KEY, v text)');
    const rawN = 500;
    let t0 = performance.now();
    for (let i = 0; i < rawN; i++) await db.pool.query('INSERT INTO bench_raw (v) VALUES ($1)', ['x']);
    const rawPerSec = rawN / ((performance.now() - t0) / 1000);

    const coordinator = await service.start();
    const started = new Map<string, number>();
    const latencies: number[] = [];
    const messages = new Map<string, number>();
    let done = 0;
    coordinator.on('message', (m) => messages.set(m.id, (messages.get(m.id) ?? 0) + 1));
    coordinator.on('forgotten', (e) => {
      const s = started.get(e.id);
      if (s !== undefined) latencies.push(performance.now() - s);
      done++;
    });
    const run = async (n: number, amount: bigint) => {
      const before = { forced: service.log.forcedWrites, done, latencies: latencies.length };
      const ids: string[] = [];
      t0 = performance.now();
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const s = senders[i % senders.length] ?? senders[0];
          const r = senders[(i + 7) % senders.length] ?? senders[0];
          if (!s || !r) return;
          const [from, to] = i % 2 === 0 ? ['bridge', 'main'] : ['main', 'bridge'];
          const req = signTx({ network: NETWORK, channel: from, type: 'xfer-request', sender: s.address, lane: 0, nonce: BigInt(i) + BigInt(Math.floor(Math.random() * 1e12)), body: { to: to ?? 'main', recipient: r.address, asset: 'KLX', amount: amount.toString() } }, s.key);
          const begun = performance.now();
          const id = await service.begin(toHex(req.encoded));
          started.set(id, begun);
          ids.push(id);
        }),
      );
      while (done - before.done < n) await new Promise((r) => setTimeout(r, 10));
      const seconds = (performance.now() - t0) / 1000;
      const msgs = ids.reduce((sum, id) => sum + (messages.get(id) ?? 0), 0);
      return { perSec: n / seconds, lat: latencies.slice(before.latencies), forcedPer: (service.log.forcedWrites - before.forced) / n, msgsPerParticipant: msgs / n / 2 };
    };
    const committed = await run(COMMITTED, 10n);
    const aborted = await run(ABORTED, 200_000n); // over the destination's 100,000 limit: it votes no
    console.log(`raw PostgreSQL forced single-row commits/s (baseline, one client): ${rawPerSec.toFixed(0)}`);
    console.log(`inter-channel transfers/s (committed, ${COMMITTED} concurrent, HTTP to a two-channel node): ${committed.perSec.toFixed(1)}  (${(committed.perSec / rawPerSec).toFixed(3)} × the raw commit rate)`);
    console.log(`transfer latency, request → forgotten: p50 ${pct(committed.lat, 50).toFixed(0)} ms, p99 ${pct(committed.lat, 99).toFixed(0)} ms`);
    console.log(`per committed transfer: ${committed.msgsPerParticipant.toFixed(2)} messages per participant, ${committed.forcedPer.toFixed(2)} coordinator forced writes (presumed commit: 3 and 2)`);
    console.log(`per aborted transfer:   ${aborted.msgsPerParticipant.toFixed(2)} messages per participant, ${aborted.forcedPer.toFixed(2)} coordinator forced writes (presumed commit: 4 and 1)`);
    console.log(`aborted transfers/s: ${aborted.perSec.toFixed(1)}, p99 ${pct(aborted.lat, 99).toFixed(0)} ms`);
  } finally {
    await service.stop();
    await node.stop();
    await db.drop();
  }
}

await main();
