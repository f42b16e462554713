/**
 * HA: three processor processes on one database under continuous load; the leader is
 * kill -9'd several times and a standby takes over. Afterwards: one chain (no fork),
 * every acknowledged transaction in exactly one block, none twice, audit clean.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditChannel } from '../../relayer/audit/audit.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import type { Receipt } from '../../relayer/processor/processor.ts';
import { transfer, user } from '../helpers/channel.ts';
import { ProcessorCluster } from '../helpers/cluster.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const KILLS = 3;
const SENDERS = 6;

describe('processor high availability', () => {
  let db: TestDatabase;
  let cluster: ProcessorCluster;
  const senders = Array.from({ length: SENDERS }, (_, i) => user(`ha${i}`));
  const sink = user('sink');

  before(async () => {
    db = await createTestDatabase('ha');
    cluster = new ProcessorCluster(db, senders);
    await cluster.add('p1');
    await cluster.add('p2');
    await cluster.add('p3');
  });
  after(async () => {
    await cluster?.stop();
    await db?.drop();
  });

  it('survives repeated kill -9 of the leader with no fork, no loss and no duplicate', async () => {
    const acked: { txId: string; receipt: Receipt }[] = [];
    let stop = false;
    const load = senders.map(async (s) => {
      for (let n = 0n; !stop; n++) {
        const tx = transfer(s, sink.address, 1n, n);
        acked.push({ txId: toHex(tx.id), receipt: await cluster.submitUntilAcked(tx) });
      }
    });
    const leaders: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const leader = await cluster.leader();
      leaders.push(leader.name);
      const before = acked.length;
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(acked.length > before, `load progresses under leader ${leader.name}`);
      process.kill(leader.proc.pid, 'SIGKILL');
      await leader.proc.exited;
      await cluster.add(`p${4 + k}`); // keep three processes
    }
    const last = await cluster.leader();
    const beforeEnd = acked.length;
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(load);
    assert.ok(acked.length > beforeEnd, `load progresses under the final leader ${last.name}`);

    // No fork: one block per height, each linked to its parent; audit replays all of it.
    const report = await auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' });
    const { rows } = await db.pool.query<{ tx_id: Buffer; height: bigint; hash: Buffer; written_by: string }>(
      "SELECT tx_id, height, hash, written_by FROM hub.blocks WHERE channel = 'bridge' ORDER BY height",
    );
    assert.equal(rows.length, report.blocks);
    const byTx = new Map(rows.map((r) => [r.tx_id.toString('hex'), r]));
    // Every acknowledged transaction is in exactly one block, where its receipt says.
    const seen = new Set<string>();
    for (const a of acked) {
      assert.ok(!seen.has(a.txId), 'a transaction was acknowledged twice under different ids');
      seen.add(a.txId);
      const row = byTx.get(a.txId);
      assert.ok(row, `acknowledged transaction ${a.txId} is in no block`);
      assert.equal(row.height.toString(), a.receipt.height);
      assert.equal(row.hash.toString('hex'), a.receipt.blockHash);
    }
    // Nothing else was included: genesis plus exactly the acknowledged transfers.
    assert.equal(rows.length, acked.length + 1);
    const writers = new Set(rows.map((r) => r.written_by));
    assert.ok(writers.size >= KILLS + 1, `blocks were produced by ${[...writers].join(', ')}`);
    console.log(`# ha: ${acked.length} acknowledged transfers, leaders ${[...leaders, last.name].join(' -> ')}`);
  });
});
