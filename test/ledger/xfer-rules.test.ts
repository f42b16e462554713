/**
 * The participant rules of an inter-channel transfer (issue 6; ADR 0017), re-executed by every
 * node: prepare only on the sender's signed request, commit only against the peer's signed
 * prepare block, refund only against the destination's abort block, permanent tombstones.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { sealBlock } from '../../relayer/ledger/block.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { escrowAddress } from '../../relayer/ledger/xfer-rules.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { NETWORK, PREFIX, user } from '../helpers/channel.ts';
import { TwoChannels } from '../helpers/xfer-channels.ts';

const alice = user('x-alice');
const bob = user('x-bob');
const id = (seq: number, epoch = 1) => ({ epoch: String(epoch), seq: String(seq) });

describe('inter-channel transfer: participant rules', () => {
  let t: TwoChannels;
  beforeEach(() => {
    t = new TwoChannels([alice, bob]);
  });
  const req = (amount = 1000n, to = bob.address) => t.request(alice, 'bridge', { to: 'main', recipient: to, asset: 'KLX', amount: amount.toString() });

  it('commits: the source escrows then burns, the destination credits only with the source prepare as proof; the total is unchanged', () => {
    const total = t.total();
    const r = req();
    const ps = t.prepare('bridge', id(1), 'source', r);
    const escrow = escrowAddress(PREFIX, '1.1');
    assert.equal(t.balance('bridge', alice.address), 999_000n);
    assert.equal(t.balance('bridge', escrow), 1000n);
    const pd = t.prepare('main', id(1), 'dest', r);
    assert.equal(t.balance('main', bob.address), 1_000_000n, 'a destination prepare credits nothing');
    t.rejects('main', t.coordinator, 'xfer-commit', { id: id(1), proof: toHex(new Uint8Array(10)) }, 'BAD_PROOF');
    t.commit('main', id(1), ps);
    t.commit('bridge', id(1), pd);
    assert.equal(t.balance('main', bob.address), 1_001_000n);
    assert.equal(t.balance('bridge', escrow), 0n);
    assert.equal(t.total(), total, 'balances + escrows across both channels are unchanged');
    assert.equal(t.transfer('bridge', id(1))?.status, 'committed');
    assert.equal(t.transfer('main', id(1))?.status, 'committed');
    // Idempotent: repeating any step is refused with a code that says it is done.
    t.rejects('main', t.coordinator, 'xfer-commit', { id: id(1), proof: toHex(new Uint8Array(1)) }, 'ALREADY_COMMITTED');
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(r.encoded) }, 'ALREADY_COMMITTED');
    t.rejects('main', t.coordinator, 'xfer-abort', { id: id(1), peer: 'bridge' }, 'ALREADY_COMMITTED');
  });

  it('refuses a forged prepare: a tampered or foreign-channel request, a non-coordinator, a reused request', () => {
    const r = req();
    // Alice's name on a request Bob signed: the coordinator cannot take Alice's funds without her signature.
    const forged = signTx({ network: NETWORK, channel: 'bridge', type: 'xfer-request', sender: alice.address, lane: 0, nonce: 5n, body: r.body }, bob.key);
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(forged.encoded) }, 'BAD_SIGNATURE');
    t.rejects('main', t.coordinator, 'xfer-prepare', { id: id(1), side: 'dest', request: toHex(forged.encoded) }, 'BAD_SIGNATURE');
    t.rejects('bridge', bob, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(r.encoded) }, 'NOT_AUTHORIZED');
    t.rejects('main', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(r.encoded) }, 'WRONG_CHANNEL');
    const otherNet = signTx({ network: 'othernet', channel: 'bridge', type: 'xfer-request', sender: alice.address, lane: 0, nonce: 9n, body: r.body }, alice.key);
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(otherNet.encoded) }, 'WRONG_NETWORK');
    t.prepare('bridge', id(1), 'source', r);
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(2), side: 'source', request: toHex(r.encoded) }, 'REQUEST_USED');
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(req(5n).encoded) }, 'TRANSFER_ID_USED');
    assert.equal(t.balance('bridge', alice.address), 999_000n, 'escrowed once');
  });

  it('refuses a forged commit: a block not signed by the peer producer, of another transfer, or of the same side', () => {
    const r = req();
    const ps = t.prepare('bridge', id(1), 'source', r);
    const pd = t.prepare('main', id(1), 'dest', r);
    const forger = Ed25519Signer.devnet('not-the-bridge-producer');
    const forged = sealBlock({ network: ps.network, channel: ps.channel, height: ps.height, prevHash: ps.prevHash, timestampMs: ps.timestampMs, rulesVersion: ps.rulesVersion, stateCommitment: ps.stateCommitment }, ps.tx, forger);
    const commit = (proof: typeof ps) => ({ id: id(1), proof: toHex(Buffer.concat([proof.body, Buffer.from([0, 0, 0, 64]), proof.signature])) });
    t.rejects('main', t.coordinator, 'xfer-commit', commit(forged), 'BAD_PROOF');
    t.rejects('main', t.coordinator, 'xfer-commit', commit(pd), 'BAD_PROOF'); // its own block, not the peer's
    const r2 = req(7n);
    const ps2 = t.prepare('bridge', id(2), 'source', r2);
    t.rejects('main', t.coordinator, 'xfer-commit', commit(ps2), 'BAD_PROOF'); // another transfer's prepare
    t.rejects('main', bob, 'xfer-commit', commit(ps), 'NOT_AUTHORIZED');
    t.rejects('main', t.coordinator, 'xfer-commit', { id: id(3), proof: commit(ps).proof }, 'NOT_PREPARED');
    assert.equal(t.balance('main', bob.address), 1_000_000n, 'nothing credited');
    t.commit('main', id(1), ps);
    assert.equal(t.balance('main', bob.address), 1_001_000n);
  });

  it('late prepare: an abort acknowledged before a delayed prepare leaves a tombstone that refuses it, on either side', () => {
    const r = req();
    t.abort('main', id(1), 'bridge'); // the coordinator timed out: the destination never saw the prepare
    t.abort('bridge', id(1), 'main'); // nor did the source (no escrow: no proof needed)
    t.rejects('main', t.coordinator, 'xfer-prepare', { id: id(1), side: 'dest', request: toHex(r.encoded) }, 'TRANSFER_ABORTED');
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(r.encoded) }, 'TRANSFER_ABORTED');
    assert.equal(t.balance('bridge', alice.address), 1_000_000n);
    assert.equal(t.transfer('main', id(1))?.status, 'aborted');
    t.rejects('main', t.coordinator, 'xfer-abort', { id: id(1), peer: 'bridge' }, 'ALREADY_ABORTED');
  });

  it('the source refunds an escrow only against the destination abort block; the destination can then never commit', () => {
    const r = req();
    const ps = t.prepare('bridge', id(1), 'source', r);
    t.prepare('main', id(1), 'dest', r);
    t.rejects('bridge', t.coordinator, 'xfer-abort', { id: id(1), peer: 'main' }, 'BAD_PROOF');
    const ad = t.abort('main', id(1), 'bridge');
    t.abort('bridge', id(1), 'main', ad);
    assert.equal(t.balance('bridge', alice.address), 1_000_000n, 'refunded');
    assert.equal(t.balance('bridge', escrowAddress(PREFIX, '1.1')), 0n);
    t.rejects('main', t.coordinator, 'xfer-commit', { id: id(1), proof: toHex(Buffer.concat([ps.body, Buffer.from([0, 0, 0, 64]), ps.signature])) }, 'ALREADY_ABORTED');
  });

  it('a no vote changes nothing: insufficient funds at the source, limit or bad recipient at the destination; bad input is refused', () => {
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(req(2_000_000n).encoded) }, 'INSUFFICIENT_BALANCE');
    t.rejects('main', t.coordinator, 'xfer-prepare', { id: id(1), side: 'dest', request: toHex(req(600_000n).encoded) }, 'TRANSFER_LIMIT');
    const toNowhere = t.request(alice, 'bridge', { to: 'nowhere', recipient: bob.address, asset: 'KLX', amount: '5' });
    t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(toNowhere.encoded) }, 'UNKNOWN_CHANNEL');
    for (const [body, code] of [
      [{ to: 'main', recipient: 'klxd1notanaddress', asset: 'KLX', amount: '5' }, 'BAD_ADDRESS'],
      [{ to: 'main', recipient: bob.address, asset: 'KLX', amount: '0' }, 'BAD_AMOUNT'],
      [{ to: 'main', recipient: bob.address, asset: 'NOPE', amount: '5' }, 'UNKNOWN_ASSET'],
    ] as const) {
      const bad = signTx({ network: NETWORK, channel: 'bridge', type: 'xfer-request', sender: alice.address, lane: 0, nonce: 77n, body }, alice.key);
      t.rejects('bridge', t.coordinator, 'xfer-prepare', { id: id(1), side: 'source', request: toHex(bad.encoded) }, code);
    }
    t.rejects('bridge', alice, 'xfer-request', req().body, 'NOT_A_TRANSACTION');
    assert.equal(t.balance('bridge', alice.address), 1_000_000n);
    assert.equal(t.transfer('bridge', id(1)), undefined);
  });
});
