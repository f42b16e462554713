/**
 * EVM signatures as KlxBridge checks them (BridgeAuth._recover): signDigest produces what
 * viem's signer produces for the same key and digest, and recoverSigner names the signer of
 * a valid one and refuses what the contract refuses (high s, v outside {27, 28}, r or s
 * zero or out of range, wrong lengths).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keccak256, toBytes, hexToBytes, bytesToHex, serializeSignature, getAddress, hashTypedData, zeroAddress } from 'viem';
import { privateKeyToAccount, sign } from 'viem/accounts';
import { ACTION_TYPES, actionDigest, addressOfKey, recoverSigner, signDigest, type EvmAction } from '../../adapters/evm/evm-codec.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const;
const word = (x: bigint) => toBytes(x, { size: 32 });

describe('EVM signatures (evm-codec)', () => {
  const key = hexToBytes(KEY);
  const signer = privateKeyToAccount(KEY).address;
  const digests = Array.from({ length: 16 }, (_, i) => hexToBytes(keccak256(toBytes(`action ${i}`))));

  it('signs exactly as viem does (RFC 6979, low s, v in {27, 28}) and recovers the signer', async () => {
    assert.equal(addressOfKey(key), signer);
    for (const digest of digests) {
      const ours = signDigest(key, digest);
      const theirs = hexToBytes(serializeSignature(await sign({ hash: bytesToHex(digest), privateKey: KEY })));
      assert.equal(bytesToHex(ours), bytesToHex(theirs));
      assert.equal(recoverSigner(digest, ours), signer);
    }
  });

  it('refuses what the contract refuses: high s, a bad v, r or s zero or at least n, wrong lengths', () => {
    const digest = digests[0] as Uint8Array;
    const good = signDigest(key, digest);
    const r = BigInt(bytesToHex(good.subarray(0, 32)));
    const s = BigInt(bytesToHex(good.subarray(32, 64)));
    const v = good[64] as number;
    const make = (rr: bigint, ss: bigint, vv: number) => new Uint8Array([...word(rr), ...word(ss), vv]);
    // The same point with s' = n - s and the other v recovers the same key: the malleable twin, refused.
    assert.equal(recoverSigner(digest, make(r, N - s, v === 27 ? 28 : 27)), null);
    for (const bad of [make(r, s, 29), make(r, s, 0), make(r, s, 1), make(0n, s, v), make(r, 0n, v), make(N, s, v), make(2n ** 256n - 1n, s, v)]) {
      assert.equal(recoverSigner(digest, bad), null);
    }
    assert.equal(recoverSigner(digest, good.subarray(0, 64)), null);
    assert.equal(recoverSigner(digest.subarray(0, 31), good), null);
    assert.notEqual(recoverSigner(digest, make(r, s, v === 27 ? 28 : 27)), signer, 'the other v names another key');
    assert.equal(recoverSigner(digest, good), signer);
  });
});

describe('actionDigest (evm-codec)', () => {
  const typedDigest = (domain: { chainId: number; bridge: `0x${string}` }, a: EvmAction) =>
    hashTypedData({ domain: { name: 'KlxBridge', version: '1', chainId: domain.chainId, verifyingContract: domain.bridge }, types: ACTION_TYPES, primaryType: 'Action', message: a });

  it('equals viem\'s EIP-712 hashing for edge and varied values, per chain id and bridge', () => {
    const addr = (i: number) => getAddress(`0x${keccak256(toBytes(`address ${i}`)).slice(26)}`);
    const domains = [
      { chainId: 1, bridge: addr(1) },
      { chainId: 137, bridge: addr(2) },
      { chainId: 1, bridge: addr(3) },
    ];
    const actions: EvmAction[] = [
      { actionId: 1n, kind: 1, token: zeroAddress, recipient: addr(10), amount: 0n },
      { actionId: (1n << 64n) - 1n, kind: 255, token: addr(11), recipient: addr(12), amount: (1n << 256n) - 1n },
      ...Array.from({ length: 20 }, (_, i) => ({ actionId: BigInt(i * 7919 + 1), kind: i % 3, token: addr(100 + i), recipient: addr(200 + i).toLowerCase() as `0x${string}`, amount: 10n ** BigInt(i) + BigInt(i) })),
    ];
    for (const d of domains) for (const a of actions) assert.equal(actionDigest(d, a), typedDigest(d, a));
    const a = actions[2] as EvmAction;
    assert.notEqual(actionDigest(domains[0] as (typeof domains)[number], a), actionDigest(domains[2] as (typeof domains)[number], a), 'the bridge address is bound');
  });

  it('refuses values the types cannot hold', () => {
    const d = { chainId: 1, bridge: getAddress(`0x${'11'.repeat(20)}`) };
    const ok: EvmAction = { actionId: 1n, kind: 1, token: zeroAddress, recipient: zeroAddress, amount: 1n };
    for (const bad of [{ ...ok, actionId: 1n << 64n }, { ...ok, actionId: -1n }, { ...ok, kind: 256 }, { ...ok, amount: 1n << 256n }, { ...ok, token: '0x1234' as `0x${string}` }]) {
      assert.throws(() => actionDigest(d, bad), RangeError);
    }
  });
});
