/**
 * The bankrun JSON-RPC server as a client in another process sees it: a blockhash from
 * getLatestBlockhash is accepted even after the server has idled for seconds (bankrun keeps
 * registering blockhashes meanwhile, so the hash of the last landed slot ages out).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, Keypair, SystemProgram, Transaction } from '@solana/web3.js';
import { SolanaBankrunRpc } from '../../relayer/devnet/solana-bankrun-rpc.ts';

describe('bankrun JSON-RPC server', () => {
  let rpc: SolanaBankrunRpc;
  let connection: Connection;
  before(async () => {
    rpc = await SolanaBankrunRpc.start();
    connection = new Connection(await rpc.listen(), 'confirmed');
  });
  after(async () => {
    await rpc?.close();
  });

  it('accepts a transaction on the latest blockhash after idling, and lands it in a new slot', async () => {
    const to = Keypair.generate().publicKey;
    await sleep(5_000); // idle, as between a CLI's start-up and its first send
    const slotBefore = await connection.getSlot();
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = new Transaction({ feePayer: rpc.payer.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.transfer({ fromPubkey: rpc.payer.publicKey, toPubkey: to, lamports: 5_000_000 }),
    );
    tx.sign(rpc.payer);
    const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });
    const status = (await connection.getSignatureStatuses([signature])).value[0];
    assert.equal(status?.err, null);
    assert.equal(await connection.getBalance(to), 5_000_000);
    assert.equal(await connection.getSlot(), slotBefore + 1);
  });

  it('refuses a transaction on an unknown blockhash and changes nothing', async () => {
    const to = Keypair.generate().publicKey;
    const slotBefore = await connection.getSlot();
    const tx = new Transaction({ feePayer: rpc.payer.publicKey, recentBlockhash: Keypair.generate().publicKey.toBase58() }).add(
      SystemProgram.transfer({ fromPubkey: rpc.payer.publicKey, toPubkey: to, lamports: 5_000_000 }),
    );
    tx.sign(rpc.payer);
    await assert.rejects(connection.sendRawTransaction(tx.serialize(), { skipPreflight: true }), /Blockhash not found/);
    assert.equal(await connection.getBalance(to), 0);
    assert.equal(await connection.getSlot(), slotBefore);
  });
});
