/** Signature verification off the main thread gives the same answers as inline, in order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTxStructure } from '../../relayer/ledger/transaction.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { Ed25519VerifierPool, InlineSignatureVerifier } from '../../relayer/processor/signature-verifier.ts';
import { context, transfer, user } from '../helpers/channel.ts';

describe('signature verifiers', () => {
  const [alice, bob] = [user('sv-alice'), user('sv-bob')];
  const good = Array.from({ length: 50 }, (_, i) => checkTxStructure(transfer(alice, bob.address, 1n, BigInt(i)), context()));
  const forged = checkTxStructure(transfer({ ...alice, key: Ed25519Signer.devnet('sv-mallory') }, bob.address, 1n, 0n), context());
  const claims = [...good.slice(0, 20), forged, ...good.slice(20), { ...forged, publicKey: new Uint8Array(31) }];
  const expected = claims.map((c) => c !== forged && c.publicKey.length === 32);

  it('the worker pool agrees with inline verification, claim by claim and in order, across concurrent calls', async () => {
    const pool = new Ed25519VerifierPool(2);
    try {
      const inline = await new InlineSignatureVerifier().verify(claims);
      assert.deepEqual(inline, expected);
      const [a, b, c] = await Promise.all([pool.verify(claims), pool.verify([forged]), pool.verify(good.slice(0, 3))]);
      assert.deepEqual(a, expected);
      assert.deepEqual(b, [false]);
      assert.deepEqual(c, [true, true, true]);
      // Answers come back in call order even when a later, smaller call finishes first.
      const order: string[] = [];
      const big = Array.from({ length: 8 }, () => claims).flat();
      await Promise.all([pool.verify(big).then(() => order.push('big')), pool.verify([forged]).then(() => order.push('small'))]);
      assert.deepEqual(order, ['big', 'small']);
      // A worker that dies while it owes answers fails exactly those (retriable upstream) and is replaced.
      const owing = pool.verify(big);
      const workers = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
      await new Promise((r) => setImmediate(r)); // flushed to worker 0
      await workers[0]?.terminate();
      await assert.rejects(owing, /exited/);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await pool.verify(good.slice(0, 2)), [true, true]);
      assert.deepEqual(await pool.verify([forged]), [false]);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.verify(good), /closed/);
  });
});
