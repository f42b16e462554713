/**
 * 1,000 concurrent transfers between two channels (issue 6) while the coordinator is killed
 * and restarted and either channel drops out at random: every transfer ends committed on both
 * sides or aborted on both, and KLX across the channels (balances + escrows + committed in
 * transit) is the same at every sample and at the end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { readRecord } from '../../relayer/ledger/bridge-state.ts';
import type { XferRecord } from '../../relayer/ledger/xfer-rules.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { user } from '../helpers/channel.ts';
import { CHANNELS, TwoChannels } from '../helpers/xfer-channels.ts';
import { CoordinatorHarness } from '../helpers/coordinator-harness.ts';
import { prng } from '../helpers/random.ts';

const senders = Array.from({ length: 10 }, (_, i) => user(`cx-${i}`));
const START = 100_000n;
const TRANSFERS = Number(process.env.XFER_COUNT ?? 1000);

/**
 * Committed transfers whose two commits have not both landed: the source burnt the escrow but the
 * destination has not credited yet (in transit: +amount), or the destination credited while the
 * source still holds the escrow it is about to burn (−amount).
 */
function inTransit(t: TwoChannels): bigint {
  let sum = 0n;
  for (const ch of CHANNELS) {
    const peer = ch === 'bridge' ? 'main' : 'bridge';
    for (const [k] of t.chains[ch].state.entries) {
      if (!k.startsWith('xfer/')) continue;
      const r = readRecord<XferRecord>(t.chains[ch].state, k);
      if (r?.side !== 'source') continue;
      const d = t.transfer(peer, { epoch: r.id.split('.')[0] ?? '', seq: r.id.split('.')[1] ?? '' });
      if (r.status === 'committed' && d?.status !== 'committed') sum += BigInt(r.amount ?? '0');
      if (r.status !== 'committed' && d?.status === 'committed') sum -= BigInt(r.amount ?? '0');
    }
  }
  return sum;
}

describe('1,000 concurrent transfers with random crashes', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('coord_concurrency');
  });
  after(async () => {
    await db.drop();
  });

  it('every transfer ends committed or aborted on both sides; conservation holds at every sample', async () => {
    const rnd = prng(6);
    const t = new TwoChannels(senders, START, 40_000n);
    const total = t.total();
    const h = new CoordinatorHarness(db.url, [t.chains.bridge, t.chains.main], t.coordinator, { voteTimeoutMs: 100 });
    let crashes = 0;
    const crashHook = () => {
      if (rnd() < 0.002 && crashes < 4) {
        crashes++;
        void h.kill();
        throw new Error('kill -9');
      }
      if (rnd() < 0.01) h.channels.get(rnd() < 0.5 ? 'bridge' : 'main')?.outage(30);
    };
    await h.start(crashHook);
    const ids: string[] = [];
    let samples = 0;
    const sampler = setInterval(() => {
      assert.equal(t.total() + inTransit(t), total, 'balances + escrows + committed in transit is constant');
      samples++;
    }, 20);
    try {
      for (let i = 0; i < TRANSFERS; i++) {
        const [from, to] = rnd() < 0.5 ? (['bridge', 'main'] as const) : (['main', 'bridge'] as const);
        const sender = senders[Math.floor(rnd() * senders.length)] ?? senders[0];
        const recipient = senders[Math.floor(rnd() * senders.length)] ?? senders[0];
        if (!sender || !recipient) throw new Error('no user');
        const amount = BigInt(1 + Math.floor(rnd() * 45_000)); // some over the 40,000 limit, some over the balance
        const req = t.request(sender, from, { to, recipient: recipient.address, asset: 'KLX', amount: amount.toString() });
        for (;;) {
          if (!h.service) await h.start(crashHook); // the standby takes over: new epoch, recovery
          try {
            ids.push(await (h.service as NonNullable<typeof h.service>).begin(toHex(req.encoded)));
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 5)); // died under us: the request was never issued, send it again
          }
        }
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      for (let round = 0; round < 20; round++) {
        if (!h.service) await h.start(crashHook);
        await h.service?.coordinator?.idle();
        await new Promise((r) => setTimeout(r, 40));
        if (!h.service) continue;
        if ((await h.resolveAll()) === 0 && (await h.service.log.entries()).length === 0) break;
      }
    } finally {
      clearInterval(sampler);
    }
    assert.ok(samples > 3, 'conservation was sampled during the run');
    assert.ok(crashes >= 1, 'the coordinator was killed at least once');
    let committed = 0;
    let aborted = 0;
    for (const id of ids) {
      const [epoch = '', seq = ''] = id.split('.');
      const states = CHANNELS.map((c) => t.transfer(c, { epoch, seq })?.status ?? 'none');
      assert.ok(!states.includes('prepared'), `${id} is still prepared: ${states.join('/')}`);
      const s = states.filter((x) => x === 'committed').length;
      assert.ok(s === 0 || s === 2, `${id}: ${states.join('/')}`);
      if (s === 2) committed++;
      else aborted++;
    }
    assert.equal(t.total(), total);
    assert.equal(inTransit(t), 0n);
    // Both outcomes must occur in numbers. The split itself varies between runs and machines
    // (391-459 committed in runs on 2026-11-22, 657 alone the next day), so it is not pinned:
    // most aborts are the source refusing for want of balance (230 of 343 in that run; 62 over the
    // limit), and how much of a sender's balance sits in the escrows of transfers still in flight
    // depends on how fast the channels commit against the request loop.
    assert.ok(committed > 100 && aborted > 50, `a mix of outcomes: ${committed} committed, ${aborted} aborted`);
    assert.equal(new Set(ids).size, TRANSFERS, 'every transfer got its own id');
    await h.kill();
  });
});
