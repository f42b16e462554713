/** The remaining revert paths of KlxBridge, each with its named error. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { encodeFunctionData, parseEther, toFunctionSelector } from 'viem';
import { createEvmChain, expectCustomError, readAbi, type EvmChain } from './evm-chain.ts';
import { authorize, bridgeSuite, CONTROL, key, Kind, mined, NATIVE, setArg, setToken, settings, signControl, validators, type Action, type Deployed } from './bridge-fixture.ts';

describe('KlxBridge revert paths', () => {
  const suite = bridgeSuite({ createChain: createEvmChain, klxCustody: parseEther('10') });
  const HUB = 'klxd1qp5vy5w84dm0xnce2wg8cvef3458a6s7kwkvqumqvugj348agpklj2m0hvw';
  const alice = key('alice').address;
  let chain: EvmChain;
  let f: Deployed;
  beforeEach(() => ({ chain, f } = suite));
  const run = suite.run;

  it('batches: empty, and mismatched signature lists', async () => {
    await expectCustomError(mined(chain, f.bridge.write.executeBatch([1n, [], [], []])), 'EmptyBatch');
    const a: Action = { kind: Kind.NoOp, token: NATIVE, recipient: NATIVE, amount: 0n };
    const s = await authorize(f.v, f.domain, 1n, a);
    await expectCustomError(mined(chain, f.bridge.write.executeBatch([1n, [a], [s.processorSig, s.processorSig], [s.approverSigs]])), 'BatchLengthMismatch');
    await expectCustomError(mined(chain, f.bridge.write.executeBatch([1n, [a], [s.processorSig], []])), 'BatchLengthMismatch');
  });

  it('actions: zero amount, mint or burn of a token that is not mint/burn, release of a mint/burn token, burn with a recipient', async () => {
    await expectCustomError(run(1n, { kind: Kind.Release, token: f.klx.address, recipient: alice, amount: 0n }), 'ZeroAmount');
    await expectCustomError(run(1n, { kind: Kind.Mint, token: f.klx.address, recipient: alice, amount: 1n }), 'NotMintable');
    await expectCustomError(run(1n, { kind: Kind.Burn, token: f.klx.address, recipient: NATIVE, amount: 1n }), 'NotMintable');
    const bridged = await chain.viem.deployContract('KlxBridgedToken', [f.bridge.address]);
    await setToken(chain, f, bridged.address, settings(true, true), 0n);
    await expectCustomError(run(1n, { kind: Kind.Release, token: bridged.address, recipient: alice, amount: 1n }), 'MintableNotReleasable');
    await expectCustomError(run(1n, { kind: Kind.Burn, token: bridged.address, recipient: alice, amount: 1n }), 'BadBurn');
    await run(1n, { kind: Kind.Mint, token: bridged.address, recipient: f.bridge.address, amount: 5n });
    await run(2n, { kind: Kind.Burn, token: bridged.address, recipient: NATIVE, amount: 5n });
    assert.equal(await bridged.read.totalSupply(), 0n);
  });

  it('deposits: a token that reports success but moves nothing, and one that returns false', async () => {
    const lie = await chain.viem.deployContract('LyingToken', [f.treasury.account.address, 1000n]);
    await setToken(chain, f, lie.address, settings(true), 0n);
    await mined(chain, lie.write.approve([f.bridge.address, 1000n], { account: f.treasury.account }));
    await mined(chain, lie.write.setMode([1]));
    await expectCustomError(mined(chain, f.bridge.write.deposit([lie.address, 10n, HUB, alice], { account: f.treasury.account })), 'NothingReceived');
    await mined(chain, lie.write.setMode([2]));
    await expectCustomError(mined(chain, f.bridge.write.deposit([lie.address, 10n, HUB, alice], { account: f.treasury.account })), 'TransferFromFailed');
    assert.equal(await f.bridge.read.nextEventId(), 1n);
  });

  it('re-entry is refused with Reentrancy', async () => {
    const rnt = await chain.viem.deployContract('ReentrantToken', [f.treasury.account.address, 1000n]);
    await setToken(chain, f, rnt.address, settings(true), 0n);
    await mined(chain, rnt.write.approve([f.bridge.address, 1000n], { account: f.treasury.account }));
    await mined(chain, rnt.write.arm([f.bridge.address, encodeFunctionData({ abi: f.bridge.abi, functionName: 'claim', args: [NATIVE] })]));
    await mined(chain, f.bridge.write.deposit([rnt.address, 10n, HUB, alice], { account: f.treasury.account }));
    assert.equal((await rnt.read.reentryRevert()), toFunctionSelector('Reentrancy()'));
  });

  it('controls: a second pending rotation, a self-replace of a non-member, settings for a codeless token', async () => {
    const stranger = key('not-a-member');
    const fresh = key('fresh');
    const sig = await signControl(stranger, f.domain, 'SelfReplace', CONTROL.SelfReplace, { nonce: 0n, oldKey: stranger.address, newKey: fresh.address });
    await expectCustomError(mined(chain, f.bridge.write.proposeSelfReplace([0n, stranger.address, fresh.address, sig])), 'NotAMember');
    const old = f.v.listeners[0]!;
    const s0 = await signControl(old, f.domain, 'SelfReplace', CONTROL.SelfReplace, { nonce: 0n, oldKey: old.address, newKey: fresh.address });
    await mined(chain, f.bridge.write.proposeSelfReplace([0n, old.address, fresh.address, s0]));
    const other = key('fresh-2');
    const s1 = await signControl(old, f.domain, 'SelfReplace', CONTROL.SelfReplace, { nonce: 1n, oldKey: old.address, newKey: other.address });
    await expectCustomError(mined(chain, f.bridge.write.proposeSelfReplace([1n, old.address, other.address, s1])), 'RotationAlreadyPending');
    const msg = { nonce: 0n, token: key('eoa').address, ...settings(true) };
    const p = await signControl(f.v.processor, f.domain, 'TokenSettings', CONTROL.TokenSettings, msg);
    const a = await Promise.all(f.v.approvers.slice(0, 2).map((k) => signControl(k, f.domain, 'TokenSettings', CONTROL.TokenSettings, msg)));
    await expectCustomError(mined(chain, f.bridge.write.setTokenSettings([0n, msg.token, settings(true), p, a])), 'TokenHasNoCode');
  });
});

describe('KlxBridge review fixes', () => {
  const suite = bridgeSuite({ createChain: createEvmChain, klxCustody: parseEther('100') });
  let chain: EvmChain;
  let f: Deployed;
  beforeEach(() => ({ chain, f } = suite));
  const run = suite.run;

  it('refuses a release or mint to address(0) (coins would be burnt or claims stranded)', async () => {
    await expectCustomError(run(1n, { kind: Kind.Release, token: NATIVE, recipient: NATIVE, amount: 1n }), 'ZeroRecipient');
    await expectCustomError(run(1n, { kind: Kind.Release, token: f.klx.address, recipient: NATIVE, amount: 1n }), 'ZeroRecipient');
  });

  it('a cap lowered below what is in use gives OutflowCapExceeded, not an arithmetic panic', async () => {
    await setToken(chain, f, f.klx.address, settings(true, false, parseEther('50')), 0n);
    await run(1n, { kind: Kind.Release, token: f.klx.address, recipient: key('r').address, amount: parseEther('40') });
    await setToken(chain, f, f.klx.address, settings(true, false, parseEther('10')), 1n);
    assert.equal(await f.bridge.read.availableOutflow([f.klx.address]), 0n);
    const args = await expectCustomError(run(2n, { kind: Kind.Release, token: f.klx.address, recipient: key('r').address, amount: 1n }), 'OutflowCapExceeded');
    assert.equal(args[2], 0n);
  });

  it('a deferred release stays a release even if the token is later switched to mint/burn', async () => {
    const blk = await chain.viem.deployContract('BlocklistToken', [chain.wallet(0).account.address, 1000n]);
    await setToken(chain, f, blk.address, settings(true), 0n);
    await mined(chain, blk.write.transfer([f.bridge.address, 100n]));
    const blocked = chain.wallet(5);
    await mined(chain, blk.write.setBlocked([blocked.account.address, true]));
    await run(1n, { kind: Kind.Release, token: blk.address, recipient: blocked.account.address, amount: 30n });
    assert.equal(await f.bridge.read.totalClaimable([blk.address]), 30n);
    await setToken(chain, f, blk.address, settings(true, true), 1n);
    await mined(chain, blk.write.setBlocked([blocked.account.address, false]));
    await mined(chain, f.bridge.write.claim([blk.address], { account: blocked.account }));
    assert.equal(await blk.read.balanceOf([blocked.account.address]), 30n, 'paid from custody, not minted');
    assert.equal(await f.bridge.read.totalClaimable([blk.address]), 0n);
    assert.equal(await f.bridge.read.mintClaimable([blk.address, blocked.account.address]), 0n);
  });
});

describe('KlxBridge security review fixes', () => {
  const DELAY = 3600n;
  const suite = bridgeSuite({ createChain: createEvmChain, klxCustody: parseEther('100'), rotationDelay: DELAY });
  let chain: EvmChain;
  let f: Deployed;
  beforeEach(() => ({ chain, f } = suite));
  const run = suite.run;
  const next = validators(5, 3, 5, 3, 'sr-next');
  const rotationSigs = async (nonce: bigint) => {
    const msg = { nonce, setHash: await f.bridge.read.hashValidatorSet([setArg(next)]) };
    const p = await signControl(f.v.processor, f.domain, 'Rotation', CONTROL.Rotation, msg);
    const a = await Promise.all(f.v.approvers.slice(0, 2).map((k) => signControl(k, f.domain, 'Rotation', CONTROL.Rotation, msg)));
    return { p, a };
  };

  it('a member self-replacing first neither burns the rotation nonce nor blocks a 2-of-3 rotation, which takes its place', async () => {
    const rogue = f.v.listeners[0]!;
    const s0 = await signControl(rogue, f.domain, 'SelfReplace', CONTROL.SelfReplace, { nonce: 0n, oldKey: rogue.address, newKey: key('rogue-2').address });
    await mined(chain, f.bridge.write.proposeSelfReplace([0n, rogue.address, key('rogue-2').address, s0]));
    assert.equal(await f.bridge.read.rotationNonce(), 0n);
    const { p, a } = await rotationSigs(0n);
    await mined(chain, f.bridge.write.proposeRotation([0n, setArg(next), p, [], a]));
    const [hash] = await f.bridge.read.pendingRotation();
    assert.equal(hash, await f.bridge.read.hashValidatorSet([setArg(next)]));
    // A new self-replace cannot displace the 2-of-3 rotation.
    const s1 = await signControl(rogue, f.domain, 'SelfReplace', CONTROL.SelfReplace, { nonce: 1n, oldKey: rogue.address, newKey: key('rogue-3').address });
    await expectCustomError(mined(chain, f.bridge.write.proposeSelfReplace([1n, rogue.address, key('rogue-3').address, s1])), 'RotationAlreadyPending');
  });

  it('the approver quorum unpauses and installs a due rotation in one transaction, beating a guardian that keeps re-pausing', async () => {
    const { p, a } = await rotationSigs(0n);
    await mined(chain, f.bridge.write.proposeRotation([0n, setArg(next), p, [], a]));
    const rogue = f.v.approvers[2]!;
    await mined(chain, f.bridge.write.pause([0n, await signControl(rogue, f.domain, 'Pause', CONTROL.Pause, { nonce: 0n })]));
    await chain.testClient.increaseTime({ seconds: Number(DELAY) });
    await chain.testClient.mine({ blocks: 1 });
    const unpause = await Promise.all(f.v.approvers.slice(0, 2).map((k) => signControl(k, f.domain, 'Unpause', CONTROL.Unpause, { nonce: 0n })));
    await mined(chain, f.bridge.write.unpauseAndExecuteRotation([0n, unpause, setArg(next)]));
    assert.equal(await f.bridge.read.isApprover([rogue.address]), false);
    await expectCustomError(mined(chain, f.bridge.write.pause([1n, await signControl(rogue, f.domain, 'Pause', CONTROL.Pause, { nonce: 1n })])), 'NotGuardian');
  });

  it('a batch whose first actions were executed alone still executes the rest', async () => {
    const r = key('batch-r').address;
    const acts: Action[] = [1n, 2n, 3n].map((amount) => ({ kind: Kind.Release, token: f.klx.address, recipient: r, amount }));
    const auths = await Promise.all(acts.map((x, i) => authorize(f.v, f.domain, BigInt(i + 1), x)));
    await mined(chain, f.bridge.write.execute([1n, acts[0]!, auths[0]!.processorSig, auths[0]!.approverSigs])); // copied out of the batch
    await mined(chain, f.bridge.write.executeBatch([1n, acts, auths.map((x) => x.processorSig), auths.map((x) => x.approverSigs)]));
    assert.equal(await f.klx.read.balanceOf([r]), 6n, 'each action paid once');
    assert.equal(await f.bridge.read.nextActionId(), 4n);
    await expectCustomError(mined(chain, f.bridge.write.executeBatch([1n, acts, auths.map((x) => x.processorSig), auths.map((x) => x.approverSigs)])), 'ActionOutOfOrder');
  });

  it('refuses a release to the bridge itself, a mint on a codeless token, native mint/burn, duplicate tokens and out-of-range delays', async () => {
    await expectCustomError(run(1n, { kind: Kind.Release, token: f.klx.address, recipient: f.bridge.address, amount: 1n }), 'SelfRecipient');
    await expectCustomError(run(1n, { kind: Kind.Mint, token: key('no-code').address, recipient: key('r').address, amount: 1n }), 'TokenHasNoCode');
    const msg = { nonce: 0n, token: NATIVE, ...settings(true, true) };
    const p = await signControl(f.v.processor, f.domain, 'TokenSettings', CONTROL.TokenSettings, msg);
    const a = await Promise.all(f.v.approvers.slice(0, 2).map((k) => signControl(k, f.domain, 'TokenSettings', CONTROL.TokenSettings, msg)));
    await expectCustomError(mined(chain, f.bridge.write.setTokenSettings([0n, NATIVE, settings(true, true), p, a])), 'NotMintable');
    const abi = await readAbi('KlxBridge');
    const set = setArg(validators());
    await expectCustomError(chain.viem.deployContract('KlxBridge', [set, DELAY, [f.klx.address, f.klx.address], [settings(true), settings(true)]]), 'DuplicateToken', abi);
    await expectCustomError(chain.viem.deployContract('KlxBridge', [set, 0n, [], []]), 'BadRotationDelay', abi);
    await expectCustomError(chain.viem.deployContract('KlxBridge', [set, 31n * 86_400n, [], []]), 'BadRotationDelay', abi);
  });
});
