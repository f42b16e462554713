/** The test vectors published in docs/hub-encoding.md: an independent verifier relies on them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockWireBytes } from '../../relayer/ledger/block.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { signingBytes, signTx } from '../../relayer/ledger/transaction.ts';
import { parseConfig } from '../../relayer/config/config.ts';
import { genesisSpec } from '../../relayer/config/config.ts';
import { buildGenesis } from '../../relayer/processor/genesis.ts';
import { devnetAddress, devnetConfig, devnetProducer, devnetUser } from '../../relayer/devnet/devnet-config.ts';

describe('published encoding vectors', () => {
  it('devnet transfer alice -> bob of 5 KLX base units', () => {
    const unsigned = { network: 'devnet', channel: 'bridge', type: 'transfer' as const, sender: devnetAddress('alice'), lane: 0, nonce: 0n, body: { to: devnetAddress('bob'), asset: 'KLX', amount: 5n, memo: '' } };
    assert.equal(devnetAddress('alice'), 'klxd1qru85u4wsum5h3npcd9s6w5vh3qucrvccknj688g8qyyf2y9c4wzgnwy25e');
    assert.equal(signingBytes(unsigned).length, 224);
    const tx = signTx(unsigned, devnetUser('alice'));
    assert.equal(toHex(tx.signature), 'bbe52b13dfc42afffea421df014d29dc07155ce26c5b90a454beef3d6944c0bd1fa7a3e8d163222ec3c2a6b93dcb25d49fb938d01696d811b1a18b83f854e00e');
    assert.equal(toHex(tx.id), '7ad10d4fe9697aa9a6c3cf189f3d6998fa378c3b2738fe5d206b2fcfc071555c');
    assert.equal(tx.encoded.length, 292);
  });

  it('devnet genesis of channel bridge', () => {
    const cfg = parseConfig(devnetConfig('postgres://x@y/z', 1), {});
    const ch = cfg.channels.find((c) => c.name === 'bridge');
    assert.ok(ch);
    const { block, changes } = buildGenesis({ network: 'devnet', channel: 'bridge', addressPrefix: 'klxd' }, genesisSpec(ch), devnetProducer('bridge'));
    assert.equal(toHex(devnetProducer('bridge').publicKey), '062aadcafd2b2cfa8f5956a1560b126e28c91c0617cc60678e2830e8794894e5');
    assert.equal(toHex(block.tx.id), '1292d0a05ca237bad5c1c0fea018584708af7766badb89a55e8fa9f7c2797ef5');
    assert.equal(changes.length, 10);
    assert.equal(toHex(block.stateCommitment), 'f31d1c07af1bbe55af5d5c69ec6d2463b00db272020792ff6a9283fc80ebc763');
    assert.equal(toHex(block.hash), '7946168735d10c13d1a818ab8812109b6ef81affccdbd9adace7e70b0b550d10');
    assert.equal(blockWireBytes(block).length, 1006);
  });
});
