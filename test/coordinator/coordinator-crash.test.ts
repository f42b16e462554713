/**
 * Systematic crash drill of the presumed-commit coordinator (issue 6): for every step of the
 * protocol (after each forced write and each message), kill the coordinator, or take the
 * source or the destination down, then restart and let each channel's resolver ask. Every
 * transfer must end all-committed or all-aborted, with KLX conserved across the channels.
 * The coordinator's log is real PostgreSQL; the channels run the real participant rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { CRASH_POINTS } from '../../coordinator/transfer-coordinator.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { user } from '../helpers/channel.ts';
import { TwoChannels } from '../helpers/xfer-channels.ts';
import { CoordinatorHarness } from '../helpers/coordinator-harness.ts';

const alice = user('cc-alice');
const bob = user('cc-bob');
const START = 1_000_000n;

type Outcome = 'commit' | 'no-vote' | 'timeout';
type Target = 'coordinator' | 'source' | 'dest';

/** Both sides agree, and nothing is left prepared or remembered. */
function settled(t: TwoChannels, id: string, amount: bigint): 'committed' | 'aborted' {
  const [epoch = '', seq = ''] = id.split('.');
  const s = t.transfer('bridge', { epoch, seq });
  const d = t.transfer('main', { epoch, seq });
  assert.notEqual(s?.status, 'prepared', `source still prepared: ${id}`);
  assert.notEqual(d?.status, 'prepared', `destination still prepared: ${id}`);
  const committed = s?.status === 'committed';
  assert.equal(d?.status === 'committed', committed, `${id}: source ${s?.status ?? 'none'}, destination ${d?.status ?? 'none'}`);
  assert.equal(t.total(), 2n * 2n * START, 'KLX across both channels (balances + escrows) is unchanged');
  assert.equal(t.balance('bridge', alice.address), committed ? START - amount : START);
  assert.equal(t.balance('main', bob.address), committed ? START + amount : START);
  return committed ? 'committed' : 'aborted';
}

describe('coordinator crash drill', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('coord_crash');
  });
  after(async () => {
    await db.drop();
  });

  async function drill(outcome: Outcome, target: Target, point: string): Promise<string> {
    const t = new TwoChannels([alice, bob], START, 500_000n);
    const h = new CoordinatorHarness(db.url, [t.chains.bridge, t.chains.main], t.coordinator);
    const amount = outcome === 'no-vote' ? 600_000n : 1000n; // over the destination's limit: it votes no
    let fired = false;
    let killed: Promise<void> | null = null;
    const hook = (p: string) => {
      if (fired || p !== point) return;
      fired = true;
      if (target === 'coordinator') {
        killed = h.kill();
        throw new Error(`kill -9 at ${p}`);
      }
      const ch = h.channels.get(target === 'source' ? 'bridge' : 'main');
      ch?.outage(60);
    };
    const service = await h.start(hook);
    if (outcome === 'timeout') {
      h.channels.get('main')?.outage(400); // longer than the vote timeout
    }
    const req = t.request(alice, 'bridge', { to: 'main', recipient: bob.address, asset: 'KLX', amount: amount.toString() });
    const id = await service.begin(toHex(req.encoded));
    await service.coordinator?.idle();
    await (killed as Promise<void> | null); // the killed instance is fully gone (its lock released)
    await new Promise((r) => setTimeout(r, outcome === 'timeout' ? 450 : 80)); // participants come back
    if (!h.service) await h.start(); // the restarted coordinator: a new epoch, recovery
    await h.service?.coordinator?.idle();
    for (let i = 0; i < 5 && (await h.resolveAll()) > 0; i++);
    const result = settled(t, id, amount);
    assert.deepEqual(await h.service?.log.entries(), [], 'the coordinator forgot the transfer');
    await h.kill();
    return `${result}${fired ? '' : ' (point not reached)'}`;
  }

  const expected: Record<Outcome, 'committed' | 'aborted'> = { commit: 'committed', 'no-vote': 'aborted', timeout: 'aborted' };
  for (const outcome of ['commit', 'no-vote', 'timeout'] as const) {
    for (const target of ['coordinator', 'source', 'dest'] as const) {
      it(`${outcome}: ${target} crashes after each step → all-committed or all-aborted, conserved`, async () => {
        const results: string[] = [];
        for (const point of CRASH_POINTS) {
          const r = await drill(outcome, target, point);
          results.push(`${point}: ${r}`);
          // Before the decision, a coordinator crash means presumed abort; after it, the decision stands.
          if (!r.includes('not reached') && target === 'coordinator' && ['initiated', 'prepared:source', 'prepared:dest'].includes(point)) assert.match(r, /^aborted/, `${point}: a crash before the decision aborts`);
          else if (!r.includes('not reached') && target !== 'coordinator' && outcome === 'commit' && !point.startsWith('prepared')) assert.match(r, /^committed/, `${point}`);
          else if (outcome !== 'commit') assert.match(r, new RegExp(`^${expected[outcome]}`), `${point}`);
        }
        const reached = results.filter((r) => !r.includes('not reached'));
        assert.ok(reached.length >= 4, `enough crash points reached: ${results.join(', ')}`);
      });
    }
  }
});
