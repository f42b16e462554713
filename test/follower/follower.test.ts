/**
 * The verifying follower checks every block itself: a bad producer signature, a wrong
 * parent hash or a wrong state commitment stops it at that block, says why, and
 * stores nothing of it. It resumes from its own store after a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sealBlock, type Block } from '../../relayer/ledger/block.ts';
import { sha256, toHex } from '../../relayer/ledger/bytes.ts';
import { BlockVerificationError } from '../../relayer/ledger/errors.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { HttpBlockSource } from '../../relayer/follower/block-source.ts';
import { VerifyingFollower } from '../../relayer/follower/follower.ts';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { ChainBuilder } from '../helpers/chain-builder.ts';
import { context, genesisFor, producerKey, transfer, user } from '../helpers/channel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/processes.ts';

const [alice, bob] = [user('falice'), user('fbob')];

describe('verifying follower refuses bad blocks', () => {
  let db: TestDatabase;
  before(async () => (db = await createTestDatabase('follower')));
  after(async () => db?.drop());

  const cases = [
    {
      reason: 'signature',
      forge: (c: ChainBuilder) => {
        const { header } = c.nextHeader(transfer(alice, bob.address, 1n, 2n));
        return sealBlock(header, transfer(alice, bob.address, 1n, 2n), Ed25519Signer.devnet('impostor'));
      },
    },
    {
      reason: 'parent-hash',
      forge: (c: ChainBuilder) => {
        const tx = transfer(alice, bob.address, 1n, 2n);
        const { header } = c.nextHeader(tx);
        return sealBlock({ ...header, prevHash: sha256(new Uint8Array([1])) }, tx, c.producer);
      },
    },
    {
      reason: 'state-commitment',
      forge: (c: ChainBuilder) => {
        const tx = transfer(alice, bob.address, 1n, 2n);
        const { header } = c.nextHeader(tx);
        return sealBlock({ ...header, stateCommitment: sha256(new Uint8Array([2])) }, tx, c.producer);
      },
    },
  ];

  for (const [i, tc] of cases.entries()) {
    it(`stops at a block with a bad ${tc.reason}, stores nothing of it, and resumes cleanly`, async () => {
      const schema = `f_${i}`;
      const chain = new ChainBuilder(producerKey(), genesisFor([alice, bob]));
      chain.append(transfer(alice, bob.address, 1n, 0n));
      chain.append(transfer(alice, bob.address, 1n, 1n));
      const bad = tc.forge(chain);
      const identity = { ...context(), producer: producerKey().publicKey };
      const follower = new VerifyingFollower({ pool: db.pool, schema, identity });
      const halted: string[] = [];
      follower.on('halted', (e) => halted.push(`${e.height}:${e.reason}`));
      await follower.open();
      await assert.rejects(follower.ingest([...chain.blocks, bad]), (e) => {
        assert.ok(e instanceof BlockVerificationError, String(e));
        assert.equal(e.height, 3n);
        assert.equal(e.reason, tc.reason);
        return true;
      });
      assert.deepEqual(halted, [`3:${tc.reason}`]);
      const store = new ChannelStore(db.pool, schema, 'bridge');
      assert.equal(await store.headHeight(), 2n, 'the good blocks before it are stored, the bad one is not');

      // Restart: resumes from its own store at height 2 and accepts the genuine block 3.
      const restarted = new VerifyingFollower({ pool: db.pool, schema, identity });
      await restarted.open();
      assert.equal(restarted.height, 2n);
      await restarted.ingest([chain.append(transfer(alice, bob.address, 1n, 2n))]);
      assert.equal(await store.headHeight(), 3n);
      assert.equal(restarted.state.balance(bob.address, 'KLX'), 1_000_000_000n + 3n);
    });
  }

  it('refuses a wrong height, a backwards or far-future timestamp, a bad sender signature, and a genesis other than the pinned one', async () => {
    const identity = { ...context(), producer: producerKey().publicKey, genesis: genesisFor([alice, bob]) };
    const expectRefusal = async (schema: string, blocks: Block[], height: bigint, reason: string) => {
      const f = new VerifyingFollower({ pool: db.pool, schema, identity });
      await f.open();
      await assert.rejects(f.ingest(blocks), (e) => e instanceof BlockVerificationError && e.height === height && e.reason === reason);
    };
    const chain = new ChainBuilder(producerKey(), genesisFor([alice, bob]));
    const b1 = chain.append(transfer(alice, bob.address, 1n, 0n));
    const tx2 = transfer(alice, bob.address, 1n, 1n);
    const { header } = chain.nextHeader(tx2);
    const g = chain.blocks[0] as Block;
    await expectRefusal('f_height', [g, sealBlock({ ...header, height: 1n }, tx2, producerKey())], 1n, 'parent-hash');
    await expectRefusal('f_skip', [g, b1, sealBlock({ ...header, height: 3n }, tx2, producerKey())], 3n, 'height');
    await expectRefusal('f_back', [g, b1, sealBlock({ ...header, timestampMs: b1.timestampMs - 1n }, tx2, producerKey())], 2n, 'timestamp');
    await expectRefusal('f_future', [g, b1, sealBlock({ ...header, timestampMs: BigInt(Date.now()) + 3_600_000n }, tx2, producerKey())], 2n, 'timestamp');
    await expectRefusal('f_rules', [g, b1, sealBlock({ ...header, rulesVersion: 2 }, tx2, producerKey())], 2n, 'rules-version');
    const forgedTx = { ...tx2, signature: Ed25519Signer.devnet('x').sign(tx2.id) };
    const forgedEncoded = new Uint8Array(tx2.encoded);
    forgedEncoded.set(forgedTx.signature, tx2.encoded.length - 64);
    await expectRefusal('f_txsig', [g, b1, sealBlock(header, { ...forgedTx, encoded: forgedEncoded }, producerKey())], 2n, 'transaction');
    const other = new ChainBuilder(producerKey(), genesisFor([alice, bob], 7n));
    await expectRefusal('f_genesis', [other.blocks[0] as Block], 0n, 'genesis');
  });

  it('refuses a genesis naming another producer than the pinned one', async () => {
    const chain = new ChainBuilder(Ed25519Signer.devnet('other-producer'), genesisFor([alice, bob]));
    const follower = new VerifyingFollower({ pool: db.pool, schema: 'f_pin', identity: { ...context(), producer: producerKey().publicKey } });
    await follower.open();
    await assert.rejects(follower.ingest(chain.blocks), (e) => e instanceof BlockVerificationError && e.reason === 'producer' && e.height === 0n);
  });
});

describe('verifying follower over the block stream', () => {
  let db: TestDatabase;
  let node: Awaited<ReturnType<typeof startTestNode>>;
  before(async () => {
    db = await createTestDatabase('follow_stream');
    node = await startTestNode(db, [alice, bob]);
  });
  after(async () => {
    await node?.stop();
    await db?.drop();
  });

  it('follows live blocks, and after a restart resumes where its own store ended', async () => {
    const identity = { ...context(), producer: producerKey().publicKey };
    for (let n = 0n; n < 20n; n++) await node.client().submit(transfer(alice, bob.address, 1n, n));
    const first = new VerifyingFollower({ pool: db.pool, schema: 'observer', identity });
    await first.open();
    const abort = new AbortController();
    const running = first.run(new HttpBlockSource(node.url, 'bridge'), abort.signal);
    await waitFor('first follower at height 20', () => first.height === 20n);
    for (let n = 20n; n < 25n; n++) await node.client().submit(transfer(alice, bob.address, 1n, n));
    await waitFor('live blocks', () => first.height === 25n);
    abort.abort();
    await running;

    for (let n = 25n; n < 40n; n++) await node.client().submit(transfer(alice, bob.address, 1n, n));
    const second = new VerifyingFollower({ pool: db.pool, schema: 'observer', identity });
    const verified: bigint[] = [];
    second.on('block-verified', (e) => verified.push(e.height));
    await second.open();
    assert.equal(second.height, 25n, 'resumes from its own store');
    const abort2 = new AbortController();
    const running2 = second.run(new HttpBlockSource(node.url, 'bridge'), abort2.signal);
    await waitFor('second follower at head', () => second.height === 40n);
    abort2.abort();
    await running2;
    assert.ok((verified[0] ?? 0n) > 25n, 'no block was verified twice');
    assert.equal(second.state.balance(bob.address, 'KLX'), 1_000_000_000n + 40n);
  });
  it('followers starting at different heights while the node streams to others all verify the same chain (the shared recent frames serve them in order)', async () => {
    const identity = { ...context(), producer: producerKey().publicKey };
    const head = BigInt(((await (await fetch(`${node.url}/health`)).json()) as { channels: { head: string }[] }).channels[0]?.head ?? '0');
    const followers = await Promise.all(['f_a', 'f_b', 'f_c'].map(async (schema) => {
      const f = new VerifyingFollower({ pool: db.pool, schema, identity });
      await f.open();
      return f;
    }));
    const aborts = followers.map(() => new AbortController());
    // The first one streams from genesis (every frame now recent); the others join later, mid-stream.
    const runs: Promise<void>[] = [(followers[0] as VerifyingFollower).run(new HttpBlockSource(node.url, 'bridge'), (aborts[0] as AbortController).signal)];
    await waitFor('the first follower at head', () => followers[0]?.height === head);
    for (let n = 40n; n < 45n; n++) await node.client().submit(transfer(alice, bob.address, 1n, n));
    runs.push(...followers.slice(1).map((f, i) => f.run(new HttpBlockSource(node.url, 'bridge'), (aborts[i + 1] as AbortController).signal)));
    for (let n = 45n; n < 60n; n++) await node.client().submit(transfer(alice, bob.address, 1n, n));
    await waitFor('every follower at the new head', () => followers.every((f) => f.height === head + 20n));
    for (const a of aborts) a.abort();
    await Promise.all(runs);
    const commitments = followers.map((f) => toHex(f.state.head.hash));
    assert.deepEqual(new Set(commitments).size, 1, 'one chain');
    for (const f of followers) assert.equal(f.state.balance(bob.address, 'KLX'), 1_000_000_000n + 60n);
  });
});
