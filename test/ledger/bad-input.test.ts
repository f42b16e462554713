/**
 * Bad input over the real API and a real PostgreSQL: each case gets a clear typed
 * error with a stable code, no block is produced and nothing changes; afterwards the
 * sender's next valid transaction uses the nonce no rejected one consumed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { moduleAddress } from '../../relayer/ledger/address.ts';
import { MAX_U128 } from '../../relayer/ledger/bytes.ts';
import { signTx, txToJson } from '../../relayer/ledger/transaction.ts';
import { ApiError } from '../../relayer/node/client.ts';
import { PREFIX, transfer, user } from '../helpers/channel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { snapshot, startTestNode } from '../helpers/node.ts';

describe('bad input changes nothing', () => {
  const [alice, bob, carol] = [user('alice'), user('bob'), user('carol')];
  let db: TestDatabase;
  let node: Awaited<ReturnType<typeof startTestNode>>;

  before(async () => {
    db = await createTestDatabase('bad_input');
    node = await startTestNode(db, [alice, bob]);
    await node.client().submit(transfer(alice, bob.address, 10n, 0n)); // alice's lane-0 nonce is now 1
  });
  after(async () => {
    await node?.stop();
    await db?.drop();
  });

  async function rejects(what: string, send: () => Promise<unknown>, code: string, status?: number): Promise<void> {
    const before = await snapshot(db.pool);
    await assert.rejects(send, (e: unknown) => {
      assert.ok(e instanceof ApiError, `${what}: expected an API error, got ${String(e)}`);
      assert.equal(e.code, code, `${what}: ${e.message}`);
      assert.equal(e.retriable, false, `${what} must not be retriable`);
      assert.ok(e.message.length > 10, `${what}: the message says why`);
      if (status) assert.equal(e.status, status, what);
      return true;
    });
    assert.deepEqual(await snapshot(db.pool), before, `${what}: state changed`);
  }

  const post = (body: string, path = 'transactions') => () =>
    fetch(`${node.url}/v1/channels/bridge/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => {
      const j = (await r.json()) as { error: { code: string; message: string; retriable: boolean } };
      throw new ApiError(r.status, j.error.code, j.error.message, j.error.retriable);
    });

  it('malformed and oversized transactions', async () => {
    await rejects('not JSON', post('{"network":'), 'TX_MALFORMED', 422);
    await rejects('missing fields', post('{"network":"devnet"}'), 'TX_MALFORMED', 422);
    await rejects('oversized request', post(JSON.stringify({ pad: 'x'.repeat(70_000) })), 'TX_TOO_LARGE', 413);
    const bigMemo = signTx({ network: 'devnet', channel: 'bridge', type: 'transfer', sender: alice.address, lane: 0, nonce: 1n, body: { to: bob.address, asset: 'KLX', amount: 1n, memo: 'm'.repeat(300) } }, alice.key);
    await rejects('oversized memo', () => node.client().submit(bigMemo), 'TX_TOO_LARGE', 413);
    await rejects('unknown type', () => node.client().submit({ ...txToJson(transfer(alice, bob.address, 1n, 1n)), type: 'mint' }), 'UNKNOWN_TX_TYPE');
  });

  it('bad signatures and transactions meant for another network or channel', async () => {
    const tampered = { ...txToJson(transfer(alice, bob.address, 1n, 1n)), body: { to: bob.address, asset: 'KLX', amount: '1000', memo: '' } };
    await rejects('tampered amount', () => node.client().submit(tampered), 'BAD_SIGNATURE');
    const forged = { ...txToJson(transfer(carol, bob.address, 1n, 1n)), sender: alice.address };
    await rejects('signed by someone else', () => node.client().submit(forged), 'BAD_SIGNATURE');
    await rejects('other network', () => node.client().submit(transfer(alice, bob.address, 1n, 1n, { network: 'testnet' })), 'WRONG_NETWORK');
    await rejects('other channel', () => node.client().submit(transfer(alice, bob.address, 1n, 1n, { channel: 'main' })), 'WRONG_CHANNEL');
  });

  it('wrong or reused nonces', async () => {
    await rejects('reused nonce', () => node.client().submit(transfer(alice, bob.address, 2n, 0n)), 'NONCE_MISMATCH');
    await rejects('skipped nonce', () => node.client().submit(transfer(alice, bob.address, 2n, 5n)), 'NONCE_MISMATCH');
  });

  it('unknown asset, bad amounts, unknown or malformed addresses, insufficient balance', async () => {
    await rejects('unknown asset', () => node.client().submit(transfer(alice, bob.address, 1n, 1n, { asset: 'DOGE' })), 'UNKNOWN_ASSET');
    const withAmount = (amount: unknown) => ({ ...txToJson(transfer(alice, bob.address, 1n, 1n)), body: { to: bob.address, asset: 'KLX', amount } });
    await rejects('zero amount', () => node.client().submit(withAmount('0')), 'BAD_AMOUNT');
    await rejects('negative amount', () => node.client().submit(withAmount('-3')), 'BAD_AMOUNT');
    await rejects('float amount', () => node.client().submit(withAmount(1.5)), 'BAD_AMOUNT');
    await rejects('overflowing amount', () => node.client().submit(withAmount((MAX_U128 + 1n).toString())), 'AMOUNT_OVERFLOW');
    await rejects('unknown sender account', () => node.client().submit(transfer(carol, bob.address, 1n, 0n)), 'UNKNOWN_ACCOUNT');
    await rejects('unknown module recipient', () => node.client().submit(transfer(alice, moduleAddress(PREFIX, 'nowhere'), 1n, 1n)), 'UNKNOWN_ADDRESS');
    await rejects('malformed recipient', () => node.client().submit(transfer(alice, `${bob.address.slice(0, -1)}x`, 1n, 1n)), 'BAD_ADDRESS');
    await rejects('insufficient balance', () => node.client().submit(transfer(alice, bob.address, 10n ** 12n, 1n)), 'INSUFFICIENT_BALANCE');
  });

  it('a batch answers each transaction on its own, in order, and rejects a malformed batch whole', async () => {
    const before = await snapshot(db.pool);
    const r = await node.client().submitBatch([
      transfer(bob, alice.address, 1n, 0n),
      transfer(bob, alice.address, 1n, 5n), // skips a nonce: rejected alone
      transfer(bob, alice.address, 1n, 1n),
      transfer(carol, alice.address, 1n, 0n), // no account: rejected alone
    ]);
    assert.deepEqual(r.results.map((x) => (x.ok ? 'ok' : x.error.code)), ['ok', 'NONCE_MISMATCH', 'ok', 'UNKNOWN_ACCOUNT']);
    const heights = r.results.flatMap((x) => (x.ok ? [BigInt(x.receipt.height)] : []));
    assert.deepEqual(heights, [before.height + 1n, before.height + 2n]);
    const mid = await snapshot(db.pool);
    await rejects('empty batch', post('{"transactions":[]}', 'transactions/batch'), 'TX_MALFORMED');
    await rejects('not a batch', post('[1,2]', 'transactions/batch'), 'TX_MALFORMED');
    assert.deepEqual(await snapshot(db.pool), mid);
  });

  it('a valid transaction afterwards takes the next height and the unconsumed nonce', async () => {
    const before = await snapshot(db.pool);
    const r = await node.client().submit(transfer(alice, bob.address, 1n, 1n));
    assert.equal(BigInt(r.height), before.height + 1n);
    const after = await node.client().balances(bob.address);
    assert.equal(after.balances.KLX, String(1_000_000_000n + 11n - 2n)); // +10 +1 from alice, -2 in the batch
  });
});
