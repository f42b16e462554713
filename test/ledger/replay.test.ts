/**
 * Replay determinism: a random workload of thousands of transactions through the real
 * processor and PostgreSQL; replaying from genesis (audit, and an independent
 * follower) reproduces the same state commitment at every height; tampering with one
 * stored block, signature or balance makes audit fail and name the height.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditChannel } from '../../relayer/audit/audit.ts';
import { decodeBlock } from '../../relayer/ledger/block.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { AuditMismatchError, BlockVerificationError, TxRejected } from '../../relayer/ledger/errors.ts';
import { VerifyingFollower } from '../../relayer/follower/follower.ts';
import { ChannelProcessor } from '../../relayer/processor/processor.ts';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { context, genesisFor, producerKey, transfer, user, type TestUser } from '../helpers/channel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runCli } from '../helpers/processes.ts';
import { pick, prng } from '../helpers/random.ts';

const TX_COUNT = 3000;

describe('replay determinism and audit', () => {
  let db: TestDatabase;
  const users: TestUser[] = Array.from({ length: 12 }, (_, i) => user(`u${i}`));
  let accepted = 0;
  let rejected = 0;

  before(async () => {
    db = await createTestDatabase('replay');
    const seed = Number(process.env.KLX_TEST_SEED ?? Date.now() % 1_000_000);
    console.log(`# replay workload seed ${seed}`);
    const rand = prng(seed);
    const p = new ChannelProcessor({ databaseUrl: db.url, schema: 'hub', context: context(), producer: producerKey(), genesis: genesisFor(users.slice(0, 8), 1000n), instance: 'replay' });
    const run = p.start();
    while (!p.isLeader) await new Promise((r) => setTimeout(r, 10));
    const nonces = new Map<string, bigint>();
    const lanes = [0, 1, 2];
    // Send in waves of concurrent submissions on distinct (sender, lane) pairs.
    while (accepted + rejected < TX_COUNT) {
      const wave = new Map<string, Promise<unknown>>();
      for (let i = 0; i < 40; i++) {
        const from = pick(rand, users);
        const lane = pick(rand, lanes);
        const k = `${from.address}:${lane}`;
        if (wave.has(k)) continue;
        const nonce = nonces.get(k) ?? 0n;
        const amount = BigInt(1 + Math.floor(rand() * 300)); // sometimes more than the balance
        const tx = transfer(from, pick(rand, users).address, amount, nonce, { lane, asset: rand() < 0.5 ? 'KLX' : 'ETH' });
        wave.set(
          k,
          p.submit(tx).then(
            () => {
              nonces.set(k, nonce + 1n);
              accepted++;
            },
            (e: unknown) => {
              assert.ok(e instanceof TxRejected, String(e));
              rejected++;
            },
          ),
        );
      }
      await Promise.all(wave.values());
    }
    await p.stop();
    await run;
    console.log(`# workload: ${accepted} accepted, ${rejected} rejected`);
  });
  after(async () => db?.drop());

  it('audit replays every block and agrees with the stored state', async () => {
    const report = await auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge', producer: producerKey().publicKey });
    assert.equal(report.blocks, accepted + 1);
    assert.equal(report.transactions.transfer, accepted);
    assert.equal(report.supply.KLX, String(8 * 1000));
    assert.ok(rejected > 0, 'the workload also exercised rejections');
  });

  it('an independent follower reproduces every hash and state commitment', async () => {
    const follower = new VerifyingFollower({ pool: db.pool, schema: 'replica', identity: { ...context(), producer: producerKey().publicKey } });
    await follower.open();
    const source = new ChannelStore(db.pool, 'hub', 'bridge');
    const rows = await source.readBlockRows(0n, BigInt(accepted));
    const blocks = rows.map((r) => decodeBlock(new Uint8Array(r.body), new Uint8Array(r.signature)));
    for (let i = 0; i < blocks.length; i += 700) await follower.ingest(blocks.slice(i, i + 700));
    const mine = await new ChannelStore(db.pool, 'replica', 'bridge').readBlockRows(0n, BigInt(accepted));
    assert.equal(mine.length, rows.length);
    mine.forEach((r, i) => {
      const theirs = blocks[i];
      assert.ok(theirs);
      assert.equal(toHex(r.hash), toHex(theirs.hash), `hash at height ${i}`);
      assert.equal(toHex(decodeBlock(new Uint8Array(r.body), new Uint8Array(r.signature)).stateCommitment), toHex(theirs.stateCommitment));
    });
    const replica = await auditChannel({ pool: db.pool, schema: 'replica', channel: 'bridge' });
    const primary = await auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' });
    assert.equal(replica.stateCommitment, primary.stateCommitment);
    assert.deepEqual(replica.supply, primary.supply);
  });

  async function tampered(sql: string, params: unknown[], restore: string, restoreParams: unknown[], check: (e: unknown) => void) {
    await db.pool.query(sql, params);
    try {
      await assert.rejects(auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' }), (e) => {
        check(e);
        return true;
      });
    } finally {
      await db.pool.query(restore, restoreParams);
    }
  }

  it('a tampered block body fails audit at its height', async () => {
    const h = BigInt(Math.floor(accepted / 2));
    const { rows } = await db.pool.query<{ body: Buffer }>('SELECT body FROM hub.blocks WHERE height = $1', [h]);
    const original = rows[0]?.body as Buffer;
    const forged = Buffer.from(original);
    forged.writeUInt8((forged.at(-40) ?? 0) ^ 0x01, forged.length - 40); // inside the transaction
    await tampered('UPDATE hub.blocks SET body = $2 WHERE height = $1', [h, forged], 'UPDATE hub.blocks SET body = $2 WHERE height = $1', [h, original], (e) => {
      assert.ok(e instanceof AuditMismatchError, String(e));
      assert.equal(e.height, h);
      assert.match(e.message, new RegExp(`height ${h}`));
    });
  });

  it('a tampered producer signature fails audit at its height, also from the CLI', async () => {
    const h = BigInt(Math.floor(accepted / 3));
    const { rows } = await db.pool.query<{ signature: Buffer }>('SELECT signature FROM hub.blocks WHERE height = $1', [h]);
    const original = rows[0]?.signature as Buffer;
    const forged = Buffer.from(original);
    forged.writeUInt8((forged.at(5) ?? 0) ^ 0xff, 5);
    await db.pool.query('UPDATE hub.blocks SET signature = $2 WHERE height = $1', [h, forged]);
    try {
      await assert.rejects(auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' }), (e) => {
        assert.ok(e instanceof BlockVerificationError, String(e));
        assert.equal(e.height, h);
        assert.equal(e.reason, 'signature');
        return true;
      });
      const cli = await runCli(['audit', '--channel', 'bridge', '--database-url', db.url, '--schema', 'hub']);
      assert.equal(cli.code, 1);
      assert.match(cli.output, new RegExp(`block ${h}: producer signature does not verify`));
    } finally {
      await db.pool.query('UPDATE hub.blocks SET signature = $2 WHERE height = $1', [h, original]);
    }
  });

  it('tampered block columns or channel parameters fail audit', async () => {
    const h = 7n;
    await tampered("UPDATE hub.blocks SET tx_sender = 'someone-else' WHERE height = $1", [h], 'UPDATE hub.blocks SET tx_sender = $2 WHERE height = $1', [
      h,
      (await db.pool.query<{ s: string }>('SELECT tx_sender AS s FROM hub.blocks WHERE height = $1', [h])).rows[0]?.s,
    ], (e) => {
      assert.ok(e instanceof AuditMismatchError, String(e));
      assert.equal(e.height, h);
      assert.equal(e.reason, 'columns');
    });
    await tampered("UPDATE hub.channel_params SET address_prefix = 'klx'", [], "UPDATE hub.channel_params SET address_prefix = 'klxd'", [], (e) => {
      assert.ok(e instanceof AuditMismatchError, String(e));
      assert.equal(e.reason, 'params');
    });
  });

  it('a tampered balance fails audit and names the height that last wrote it', async () => {
    const { rows } = await db.pool.query<{ address: string; amount: string; updated_height: bigint }>(
      "SELECT address, amount::text AS amount, updated_height FROM hub.balances WHERE asset = 'KLX' AND updated_height > 0 ORDER BY updated_height DESC LIMIT 1",
    );
    const row = rows[0];
    assert.ok(row);
    await tampered(
      "UPDATE hub.balances SET amount = amount + 1 WHERE address = $1 AND asset = 'KLX'",
      [row.address],
      "UPDATE hub.balances SET amount = $2 WHERE address = $1 AND asset = 'KLX'",
      [row.address, row.amount],
      (e) => {
        assert.ok(e instanceof AuditMismatchError, String(e));
        assert.equal(e.reason, 'balance');
        assert.equal(e.height, row.updated_height);
      },
    );
    // Restored: audit passes again.
    await auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' });
  });
});
