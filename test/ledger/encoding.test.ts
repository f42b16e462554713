import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressFromPublicKey, decodeAddress, moduleAddress, MAX_ADDRESS_LENGTH } from '../../relayer/ledger/address.ts';
import { parseAmount } from '../../relayer/ledger/amount.ts';
import { decodeBlockWire, blockWireBytes, sealBlock } from '../../relayer/ledger/block.ts';
import { MAX_U128 } from '../../relayer/ledger/bytes.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { ZERO_HASH } from '../../relayer/ledger/state.ts';
import { decodeTx, parseTxJson, txToJson, verifyTxStatically } from '../../relayer/ledger/transaction.ts';
import { context, transfer, user, PREFIX } from '../helpers/channel.ts';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TxRejected, `expected TxRejected, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a rejection');
};

describe('hub addresses', () => {
  const alice = user('alice');

  it('round-trips a key address and stays within the documented length', () => {
    const d = decodeAddress(alice.address, PREFIX);
    assert.equal(d.version, 0);
    assert.deepEqual(d.payload, alice.key.publicKey);
    assert.ok(alice.address.length <= MAX_ADDRESS_LENGTH);
    assert.equal(decodeAddress(moduleAddress(PREFIX, 'treasury'), PREFIX).version, 1);
  });

  it('catches every single-character typo', () => {
    const a = alice.address;
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    for (let i = PREFIX.length + 1; i < a.length; i++) {
      const c = a[i] as string;
      const other = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length] as string;
      assert.equal(code(() => decodeAddress(a.slice(0, i) + other + a.slice(i + 1), PREFIX)), 'BAD_ADDRESS', `typo at ${i} not caught`);
    }
  });

  it('refuses another network prefix, mixed case, wrong length and non-strings', () => {
    const mainnet = addressFromPublicKey('klx', alice.key.publicKey);
    assert.equal(code(() => decodeAddress(mainnet, PREFIX)), 'BAD_ADDRESS');
    assert.equal(code(() => decodeAddress(alice.address.toUpperCase(), PREFIX)), 'BAD_ADDRESS');
    assert.equal(code(() => decodeAddress(`${alice.address}q`, PREFIX)), 'BAD_ADDRESS');
    assert.equal(code(() => decodeAddress(42, PREFIX)), 'BAD_ADDRESS');
    assert.equal(code(() => decodeAddress('', PREFIX)), 'BAD_ADDRESS');
  });
});

describe('amounts', () => {
  it('accepts positive base-unit integers up to u128 and nothing else', () => {
    assert.equal(parseAmount('1'), 1n);
    assert.equal(parseAmount(MAX_U128.toString()), MAX_U128);
    assert.equal(code(() => parseAmount('0')), 'BAD_AMOUNT');
    assert.equal(code(() => parseAmount('-5')), 'BAD_AMOUNT');
    assert.equal(code(() => parseAmount('1.5')), 'BAD_AMOUNT');
    assert.equal(code(() => parseAmount('007')), 'BAD_AMOUNT');
    assert.equal(code(() => parseAmount(5)), 'BAD_AMOUNT');
    assert.equal(code(() => parseAmount((MAX_U128 + 1n).toString())), 'AMOUNT_OVERFLOW');
    assert.equal(code(() => parseAmount('9'.repeat(80))), 'AMOUNT_OVERFLOW');
  });
});

describe('transactions', () => {
  const [alice, bob] = [user('alice'), user('bob')];

  it('round-trips through bytes and JSON with the same id', () => {
    const tx = transfer(alice, bob.address, 123n, 7n, { lane: 3 });
    const fromBytes = decodeTx(tx.encoded);
    const fromJson = parseTxJson(JSON.parse(JSON.stringify(txToJson(tx))));
    assert.deepEqual(fromBytes.id, tx.id);
    assert.deepEqual(fromJson.id, tx.id);
    assert.equal(fromJson.nonce, 7n);
    assert.equal(fromJson.lane, 3);
    verifyTxStatically(fromJson, context());
  });

  it('binds the signature to network, channel, type and content (domain separation)', () => {
    const tx = transfer(alice, bob.address, 5n, 0n, { channel: 'bridge' });
    const json = txToJson(tx);
    // Replayed on another channel or network: the signature no longer verifies.
    assert.equal(code(() => verifyTxStatically(parseTxJson({ ...json, channel: 'main' }), context('main'))), 'BAD_SIGNATURE');
    assert.equal(code(() => verifyTxStatically(parseTxJson({ ...json, network: 'mainnet' }), { ...context(), network: 'mainnet' })), 'BAD_SIGNATURE');
    // Presented as-is to the other channel: refused as addressed elsewhere.
    assert.equal(code(() => verifyTxStatically(tx, context('main'))), 'WRONG_CHANNEL');
    // Any change of content breaks the signature.
    const body = { ...(json.body as Record<string, unknown>), amount: '6' };
    assert.equal(code(() => verifyTxStatically(parseTxJson({ ...json, body }), context())), 'BAD_SIGNATURE');
    assert.equal(code(() => verifyTxStatically(parseTxJson({ ...json, nonce: '1' }), context())), 'BAD_SIGNATURE');
    assert.equal(code(() => verifyTxStatically(parseTxJson({ ...json, lane: 1 }), context())), 'BAD_SIGNATURE');
  });

  it('refuses malformed envelopes with precise codes', () => {
    const json = txToJson(transfer(alice, bob.address, 5n, 0n));
    assert.equal(code(() => parseTxJson(null)), 'TX_MALFORMED');
    assert.equal(code(() => parseTxJson({ ...json, extra: 1 })), 'TX_MALFORMED');
    assert.equal(code(() => parseTxJson({ ...json, type: 'mint' })), 'UNKNOWN_TX_TYPE');
    assert.equal(code(() => parseTxJson({ ...json, signature: 'zz' })), 'TX_MALFORMED');
    assert.equal(code(() => parseTxJson({ ...json, nonce: '-1' })), 'TX_MALFORMED');
    assert.equal(code(() => parseTxJson({ ...json, nonce: '99999999999999999999' })), 'TX_MALFORMED');
    assert.equal(code(() => parseTxJson({ ...json, body: { to: bob.address, asset: 'KLX', amount: 5 } })), 'BAD_AMOUNT');
    assert.equal(code(() => decodeTx(new Uint8Array([1, 2, 3]))), 'TX_MALFORMED');
    assert.equal(code(() => decodeTx(new Uint8Array([...transfer(alice, bob.address, 5n, 0n).encoded, 0]))), 'TX_MALFORMED');
  });

  it('never verifies a signature made by another key', () => {
    const forged = transfer({ ...alice, key: Ed25519Signer.devnet('mallory') }, bob.address, 5n, 0n);
    assert.equal(code(() => verifyTxStatically(forged, context())), 'BAD_SIGNATURE');
  });
});

describe('blocks', () => {
  it('round-trip through the wire form with the same hash', () => {
    const producer = Ed25519Signer.devnet('p');
    const tx = transfer(user('a'), user('b').address, 1n, 0n);
    const b = sealBlock({ network: 'devnet', channel: 'bridge', height: 5n, prevHash: ZERO_HASH, timestampMs: 9n, rulesVersion: 1, stateCommitment: ZERO_HASH }, tx, producer);
    const d = decodeBlockWire(blockWireBytes(b));
    assert.deepEqual(d.hash, b.hash);
    assert.equal(d.height, 5n);
    assert.deepEqual(d.tx.id, tx.id);
  });
});
