/**
 * A processor only extends a chain its configuration describes; a stale writer cannot
 * append over a newer chain; audit reads one consistent snapshot while blocks keep coming.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditChannel } from '../../relayer/audit/audit.ts';
import { ConfigError } from '../../relayer/ledger/errors.ts';
import { ChannelProcessor } from '../../relayer/processor/processor.ts';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { ChainBuilder } from '../helpers/chain-builder.ts';
import { context, genesisFor, producerKey, transfer, user } from '../helpers/channel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/processes.ts';

const [alice, bob] = [user('to-alice'), user('to-bob')];

describe('take-over, stale writers and live audit', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('takeover');
    const p = new ChannelProcessor({ databaseUrl: db.url, schema: 'hub', context: context(), producer: producerKey(), genesis: genesisFor([alice, bob]), instance: 'first' });
    const run = p.start();
    await waitFor('leader', () => p.isLeader);
    await p.submit(transfer(alice, bob.address, 1n, 0n));
    await p.stop();
    await run;
  });
  after(async () => db?.drop());

  for (const [what, ctx] of [
    ['another network', { ...context(), network: 'testnet' }],
    ['another address prefix', { ...context(), addressPrefix: 'klxt' }],
  ] as const) {
    it(`refuses to extend a stored chain of ${what}, before writing anything`, async () => {
      const before = await new ChannelStore(db.pool, 'hub', 'bridge').headHeight();
      const p = new ChannelProcessor({ databaseUrl: db.url, schema: 'hub', context: ctx, producer: producerKey(), genesis: genesisFor([alice, bob]), instance: 'misconfigured' });
      await assert.rejects(p.start(), (e) => e instanceof ConfigError && /refusing to produce blocks/.test(e.message));
      assert.equal(p.isLeader, false);
      assert.equal(await new ChannelStore(db.pool, 'hub', 'bridge').headHeight(), before);
    });
  }

  it('refuses a genesis that verifiers would refuse (too large) as a configuration error', async () => {
    const many = Array.from({ length: 100 }, (_, i) => user(`g${i}`));
    const spec = { ...genesisFor([]), assets: [{ id: 'A'.repeat(64), decimals: 9 }], allocations: many.map((u) => ({ address: u.address, asset: 'A'.repeat(64), amount: 1n })) };
    const p = new ChannelProcessor({ databaseUrl: db.url, schema: 'huge', context: context(), producer: producerKey(), genesis: spec, instance: 'huge' });
    await assert.rejects(p.start(), (e) => e instanceof ConfigError && /genesis/.test(e.message));
    assert.equal(await new ChannelStore(db.pool, 'huge', 'bridge').headHeight(), -1n);
  });

  it('a stale writer cannot append: the height is taken, and a block on a stale parent has no parent', async () => {
    const store = new ChannelStore(db.pool, 'stale', 'bridge');
    const c = await db.pool.connect();
    try {
      await (await import('../../relayer/store/migrate.ts')).migrate(c, 'stale');
    } finally {
      c.release();
    }
    const honest = new ChainBuilder(producerKey(), genesisFor([alice, bob]));
    const zombie = new ChainBuilder(producerKey(), genesisFor([alice, bob]));
    const h1 = honest.append(transfer(alice, bob.address, 1n, 0n));
    const z1 = zombie.append(transfer(alice, bob.address, 2n, 0n)); // the zombie's own idea of height 1
    await store.appendBlocks([honest.blocks[0]!, h1], [[], []], 'honest');
    await assert.rejects(store.appendBlocks([z1], [[]], 'zombie'), /duplicate key/);
    const z2 = zombie.append(transfer(alice, bob.address, 1n, 1n)); // height 2 on the zombie's parent
    await assert.rejects(store.appendBlocks([z2], [[]], 'zombie'), /foreign key/);
    assert.equal(await store.headHeight(), 1n);
  });

  it('audit passes while the processor keeps committing', async () => {
    const p = new ChannelProcessor({ databaseUrl: db.url, schema: 'hub', context: context(), producer: producerKey(), genesis: genesisFor([alice, bob]), instance: 'live' });
    const run = p.start();
    await waitFor('leader', () => p.isLeader);
    let stop = false;
    const load = [alice, bob].map(async (s) => {
      for (let n = s === alice ? 1n : 0n; !stop; n++) await p.submit(transfer(s, (s === alice ? bob : alice).address, 1n, n));
    });
    try {
      for (let i = 0; i < 5; i++) {
        const report = await auditChannel({ pool: db.pool, schema: 'hub', channel: 'bridge' });
        assert.equal(report.supply.KLX, String(2 * 1_000_000_000));
      }
    } finally {
      stop = true;
      await Promise.all(load);
      await p.stop();
      await run;
    }
  });
});
