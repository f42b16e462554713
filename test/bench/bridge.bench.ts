/**
 * `npm run bench` (bridge part), every role a separate process on two anvil chains:
 *  - deposit credit latency: from the block that puts a deposit at its confirmation
 *    depth to the hub crediting it (5 listeners, quorum 3), p50/p99;
 *  - end-to-end withdrawals per second in strict order, timed until the hub settles
 *    each one (approvals, co-signature, submitter, execution attested by listeners);
 *  - baseline in the same run: raw sequential viem send + receipt on the same node;
 *  - one more verifying copy: a fresh follower in this process replays the run's hub from
 *    genesis over the node's stream into its own schema while the cluster idles (what a
 *    listener's or approver's copy costs per block), next to in-memory verification of the
 *    same blocks.
 */
import { erc20Abi, type Address } from 'viem';
import { signTx, type SignedTx } from '../../relayer/ledger/transaction.ts';
import { DEVNET_NETWORK, DEVNET_PREFIX, devnetAddress, devnetProducer, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import { VerifyingFollower } from '../../relayer/follower/follower.ts';
import { HttpBlockSource } from '../../relayer/follower/block-source.ts';
import { ChainVerifier } from '../../relayer/ledger/verifier.ts';
import { decodeBlock } from '../../relayer/ledger/block.ts';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { bridgeRecord, depositErc20, startBridgeDevnet } from '../helpers/bridge-devnet.ts';
import { waitFor } from '../helpers/processes.ts';
import { availableParallelism } from 'node:os';
import { CpuMeter, cpuBetween, cpuReport } from './cpu-meter.ts';

const DEPOSITS = Number(process.env.KLX_BENCH_DEPOSITS ?? 50);
const WITHDRAWALS = Number(process.env.KLX_BENCH_WITHDRAWALS ?? 300);
const BASELINE_TXS = 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const d = await startBridgeDevnet('bench', { mineEveryMs: 100 });
try {
  const eth = d.evm.ethereum;
  const token = eth.chain.deployment.klxToken as Address;
  const alice = devnetAddress('alice');

  // Deposit credit latency after the depth (confirmation depth 2: one more block). The
  // first deposit (the custody the withdrawals draw on) is timed apart: it includes the
  // roles' cold start (module loading, first hub sync), not the steady state.
  const creditAfterDepth = async (amount: bigint): Promise<number> => {
    await d.pauseMining();
    const hash = await depositErc20(eth, eth.treasury, token, amount, alice);
    const t0 = performance.now();
    await eth.rpc('evm_mine');
    await waitFor('credit', async () => ((await bridgeRecord<{ events: unknown[] }>(d, `events/ethereum?txHash=${hash}`))?.events.length ?? 0) > 0, 30_000);
    const ms = performance.now() - t0;
    d.resumeMining();
    return ms;
  };
  const coldStart = await creditAfterDepth(100_000n * 10n ** 18n);
  const latencies: number[] = [];
  for (let i = 0; i < DEPOSITS; i++) latencies.push(await creditAfterDepth(10n ** 18n));

  // Withdrawals: submitted in batches on 8 lanes, timed until the last one is settled.
  const user = eth.user.account?.address as Address;
  const first = BigInt((await bridgeRecord<{ cursor: { nextActionId: string } }>(d, 'chain/ethereum'))?.cursor.nextActionId ?? '1');
  const lanes = 8;
  const nonces = await Promise.all(Array.from({ length: lanes }, (_, l) => d.hub.nextNonce(alice, l)));
  const txs: SignedTx[] = [];
  for (let i = 0; i < WITHDRAWALS; i++) {
    const lane = i % lanes;
    const nonce = nonces[lane] as bigint;
    nonces[lane] = nonce + 1n;
    txs.push(signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender: alice, lane, nonce, body: { chain: 'ethereum', asset: 'KLX', amount: '1000000', recipient: user } }, devnetUser('alice')));
  }
  const windowStart = await d.hub.headHeight();
  const meter = new CpuMeter(() => new Map([...d.cluster.processes].flatMap(([name, p]) => (p.child.pid ? [[name, p.child.pid] as const] : []))), d.db.pool);
  const cpu0 = await meter.snapshot();
  const t0 = performance.now();
  for (let i = 0; i < txs.length; i += 256) {
    const r = await d.hub.submitBatch(txs.slice(i, i + 256));
    const bad = r.results.find((x) => !x.ok);
    if (bad && !bad.ok) throw new Error(`withdrawal refused: ${bad.error.code} ${bad.error.message}`);
  }
  const last = first + BigInt(WITHDRAWALS) - 1n;
  await waitFor('all withdrawals settled', async () => (await bridgeRecord<{ status: string }>(d, `action/ethereum/${last}`))?.status === 'executed', 600_000);
  const seconds = (performance.now() - t0) / 1000;
  const withdrawalCpu = cpuBetween(cpu0, await meter.snapshot());
  const blocksPerWithdrawal = Number((await d.hub.headHeight()) - windowStart) / WITHDRAWALS;
  for (let id = first; id <= last; id++) {
    const a = await bridgeRecord<{ status: string }>(d, `action/ethereum/${id}`);
    if (a?.status !== 'executed') throw new Error(`action ${id} is ${a?.status}`);
  }

  // Baseline: raw sequential viem send + receipt on the same node.
  const bcpu0 = await meter.snapshot();
  const b0 = performance.now();
  for (let i = 0; i < BASELINE_TXS; i++) {
    const hash = await eth.treasury.writeContract({ address: token, abi: erc20Abi, functionName: 'transfer', args: [user, 1n], account: eth.treasury.account ?? user, chain: eth.treasury.chain });
    await eth.public.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 30_000 });
  }
  const baseline = BASELINE_TXS / ((performance.now() - b0) / 1000);
  const baselineCpu = cpuBetween(bcpu0, await meter.snapshot());

  // One more verifying copy, in this process, catching up from genesis while the cluster idles
  // (durable writes in batches of up to 500 blocks).
  const head = await d.hub.headHeight();
  const identity = { network: DEVNET_NETWORK, channel: 'bridge', addressPrefix: DEVNET_PREFIX, producer: devnetProducer('bridge').publicKey };
  const schema = `${d.schemaPrefix}bench_copy`;
  const copy = new VerifyingFollower({ pool: d.db.pool, schema, identity });
  await copy.open();
  const stop = new AbortController();
  const caughtUp = new Promise<void>((resolve) => copy.on('block-verified', (e) => e.height >= head && resolve()));
  const ccpu0 = await meter.snapshot();
  const c0 = performance.now();
  let sourceError = '';
  const following = copy.run(new HttpBlockSource(d.cluster.hubUrl, 'bridge', (m) => (sourceError = m)), stop.signal);
  let timer: NodeJS.Timeout | undefined;
  const ended = following.then(() => Promise.reject(new Error('the copy stopped before it caught up')));
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the copy did not catch up within 120 s ${sourceError}`)), 120_000);
  });
  try {
    await Promise.race([caughtUp, ended, late]);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
  const copySeconds = (performance.now() - c0) / 1000;
  const copyCpu = cpuBetween(ccpu0, await meter.snapshot());
  await following;
  // Baseline: the same blocks, verified and applied in memory only (no stream, no store).
  const rows = await new ChannelStore(d.db.pool, schema, 'bridge').readBlockRows(0n, head);
  const blocks = rows.map((r) => decodeBlock(new Uint8Array(r.body), new Uint8Array(r.signature)));
  const verifier = new ChainVerifier(identity);
  const m0 = process.cpuUsage();
  for (const b of blocks) verifier.verifyAndApply(b);
  const m = process.cpuUsage(m0);
  const memoryMsPerBlock = (m.user + m.system) / 1000 / blocks.length;

  console.log('\nBridge, every role a separate process (5 listeners q3, 3 approvers q2, processor, submitter), anvil');
  console.log(`deposit credit latency after the depth (${DEPOSITS} deposits)   p50 ${pct(latencies, 50).toFixed(0)} ms   p99 ${pct(latencies, 99).toFixed(0)} ms   max ${Math.max(...latencies).toFixed(0)} ms   (target p99 <= 500 ms)`);
  console.log(`  first deposit after the roles start (cold, not in the figures above)   ${coldStart.toFixed(0)} ms`);
  console.log(`withdrawals settled end to end, strict order (${WITHDRAWALS})       ${(WITHDRAWALS / seconds).toFixed(1)}/s   (target >= 100/s)`);
  console.log(`baseline: raw sequential viem send + receipt, same node      ${baseline.toFixed(1)} tx/s   ratio ${(WITHDRAWALS / seconds / baseline).toFixed(2)}x`);
  if (meter.available) {
    for (const line of cpuReport(withdrawalCpu, WITHDRAWALS, seconds, availableParallelism())) console.log(line);
    const perTx = (label: string) => (((baselineCpu.get(label) ?? 0) * 1000) / BASELINE_TXS).toFixed(2);
    console.log(`  baseline in the same run, CPU per raw send + receipt: anvil ${perTx('anvil')} ms, sender ${perTx('bench')} ms`);
  } else {
    console.log('CPU per withdrawal: not measured (no /proc on this system)');
  }
  const copyBlocks = Number(head) + 1;
  const copyRate = copyBlocks / copySeconds;
  console.log(`\nOne more verifying copy (a listener's or approver's hub copy, catching up from genesis while the cluster idles: ${copyBlocks} blocks)`);
  console.log(`  stream, verification and durable writes   ${copyRate.toFixed(0)} blocks/s, about ${(copyRate / blocksPerWithdrawal).toFixed(0)} withdrawals/s at the window's ${blocksPerWithdrawal.toFixed(2)} blocks per withdrawal`);
  if (meter.available) {
    const ms = (label: string) => (((copyCpu.get(label) ?? 0) * 1000) / copyBlocks).toFixed(2);
    console.log(`  CPU per block: copy ${ms('bench')} ms, its PostgreSQL backends ${ms('pg:other')} ms; the processor (serving the stream, still producing) ${ms('processor')} ms`);
  }
  console.log(`  baseline in the same run: the same blocks verified in memory only   ${(1000 / memoryMsPerBlock).toFixed(0)} blocks/s (${memoryMsPerBlock.toFixed(2)} ms CPU per block)`);
} finally {
  await d.stop();
}
