/**
 * The hub's Solana family rules (issue #7): the address check agrees with
 * @solana/web3.js (what the adapter uses), ownership proofs are wallet signMessage
 * signatures, and a withdrawal to a Solana chain refuses a malformed wallet address or
 * an amount the mint cannot carry before anything is debited.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { base58 } from '@scure/base';
import { claimMessage, solanaAddressProblem, solanaRules } from '../../relayer/ledger/chain-families.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import { keys, readRecord, type ActionRecord } from '../../relayer/ledger/bridge-state.ts';
import { ChainBuilder } from '../helpers/chain-builder.ts';
import { genesisFor, producerKey, PREFIX, user, type TestUser } from '../helpers/channel.ts';
import { TxFactory } from '../helpers/bridge-txs.ts';

const badAddress = (e: unknown) => e instanceof TxRejected && e.code === 'BAD_CHAIN_ADDRESS';

describe('Solana family rules', () => {
  it('accepts exactly the 32-byte keys web3.js accepts, in their one spelling', () => {
    for (let i = 0; i < 50; i++) {
      const pk = Keypair.generate().publicKey.toBase58();
      assert.equal(solanaRules.canonicalAddress(pk), pk);
    }
    const valid = Keypair.generate().publicKey.toBase58();
    const cases: [string, RegExp][] = [
      ['', /base58 characters/],
      [`${valid.slice(0, -1)}0`, /base58 characters/], // 0 is not in the alphabet
      [`${valid.slice(0, -1)}l`, /base58 characters/],
      [base58.encode(new Uint8Array(31).fill(7)), /31 bytes/],
      [base58.encode(new Uint8Array(33).fill(7)), /33 bytes/],
      ['11111111111111111111111111111111', /system program/],
      [` ${valid}`, /base58 characters/],
    ];
    for (const [text, why] of cases) {
      assert.ok(solanaAddressProblem(text)?.match(why), `${JSON.stringify(text)}: ${solanaAddressProblem(text)}`);
      assert.throws(() => solanaRules.canonicalAddress(text), badAddress);
    }
    // Every accepted text is a PublicKey web3.js reads back to the same spelling.
    assert.equal(new PublicKey(valid).toBase58(), valid);
  });

  it('takes a wallet signMessage signature of the claim message as proof of ownership, and nothing else', () => {
    const wallet = Ed25519Signer.fromSeed(new Uint8Array(32).fill(9));
    const address = base58.encode(wallet.publicKey);
    const message = claimMessage('devnet', 'bridge', 'solana', '7', 'klxd1someone');
    const proof = wallet.sign(new TextEncoder().encode(message));
    assert.equal(solanaRules.verifyOwnership(address, message, proof), true);
    assert.equal(solanaRules.verifyOwnership(address, `${message}x`, proof), false, 'another message');
    const other = base58.encode(Ed25519Signer.fromSeed(new Uint8Array(32).fill(8)).publicKey);
    assert.equal(solanaRules.verifyOwnership(other, message, proof), false, 'another key');
    assert.equal(solanaRules.verifyOwnership(address, message, new Uint8Array([...proof, 0])), false, '65 bytes');
    assert.equal(solanaRules.verifyOwnership('not-an-address', message, proof), false);
  });

  it('refuses a withdrawal to a malformed wallet or of an amount the mint cannot carry, balance unchanged', () => {
    const alice = user('sol-alice');
    const producer = { name: 'producer', key: producerKey(), address: addressFromPublicKey(PREFIX, producerKey().publicKey) } satisfies TestUser;
    const chain = new ChainBuilder(producerKey(), genesisFor([alice]));
    const f = new TxFactory();
    const custody = Keypair.generate().publicKey.toBase58();
    const mint = Keypair.generate().publicKey.toBase58();
    const listeners = [0, 1, 2].map((i) => user(`sol-listener-${i}`).address);
    const approvers = [0, 1, 2].map((i) => user(`sol-approver-${i}`).address);
    chain.append(
      f.sign(producer, 'chain-register', {
        chain: 'solana',
        family: 'solana',
        chainRef: 'devnet',
        custody,
        listeners,
        listenerQuorum: 2,
        approvers,
        approverQuorum: 2,
        // Bridged KLX: an SPL mint with 7 decimals (the hub has 9).
        assets: [{ hubAsset: 'KLX', chainAsset: mint, chainDecimals: 7, mode: 'mint' }],
      }),
    );
    const before = chain.state.balance(alice.address, 'KLX');
    const recipient = Keypair.generate().publicKey.toBase58();
    const w = (amount: string, to: string) => f.sign(alice, 'withdraw', { chain: 'solana', asset: 'KLX', amount, recipient: to });
    for (const [amount, to, code] of [
      ['100', `${recipient.slice(0, -1)}0`, 'BAD_CHAIN_ADDRESS'],
      ['101', recipient, 'UNREPRESENTABLE_AMOUNT'], // 1.01e-7 KLX: below 7 decimals
      // A token account (off the ed25519 curve): no approver could ever release to it, so the
      // withdrawal would be debited and then stuck for good.
      ['100', getAssociatedTokenAddressSync(new PublicKey(mint), new PublicKey(recipient)).toBase58(), 'BAD_CHAIN_ADDRESS'],
      ['100', custody, 'BAD_CHAIN_ADDRESS'], // the custody multisig itself
    ] as const) {
      assert.throws(() => chain.append(w(amount, to)), (e: unknown) => e instanceof TxRejected && e.code === code);
      f.unuse(alice);
    }
    assert.equal(chain.state.balance(alice.address, 'KLX'), before);
    chain.append(w('100', recipient));
    const action = readRecord<ActionRecord>(chain.state, keys.action('solana', 1n));
    assert.deepEqual([action?.kind, action?.recipient, action?.chainAmount], ['mint', recipient, '1']);
  });
});
