/** KlxBridge controls: pause/unpause, token settings, validator-set rotation with timelock. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseEther, type Hex } from 'viem';
import { createEvmChain, expectCustomError, readAbi, type EvmChain } from './evm-chain.ts';
import { authorize, CONTROL, deployBridge, key, Kind, mined, NATIVE, setArg, settings, signControl, validators, type Validators } from './bridge-fixture.ts';

describe('KlxBridge controls', () => {
  let chain: EvmChain;
  let f: Awaited<ReturnType<typeof deployBridge>>;
  const DELAY = 3600n;

  before(async () => {
    chain = await createEvmChain();
  });
  after(async () => chain.close());
  beforeEach(async () => {
    f = await deployBridge(chain, validators(), DELAY);
    await mined(chain, chain.wallet(0).sendTransaction({ to: f.bridge.address, value: parseEther('5') }));
  });

  const sign = (signers: { signTypedData: unknown }[], type: keyof typeof CONTROL, msg: Record<string, unknown>) =>
    Promise.all(signers.map((s) => signControl(s as never, f.domain, type, CONTROL[type], msg)));
  const pause = async (nonce = 0n) => mined(chain, f.bridge.write.pause([nonce, (await sign([f.v.approvers[0]!], 'Pause', { nonce }))[0]!]));
  const quorum = (v: Validators = f.v) => v.approvers.slice(0, v.approverQuorum);
  const next = validators(5, 3, 5, 3, 'next');
  const setHash = () => f.bridge.read.hashValidatorSet([setArg(next)]);

  async function propose(groups: { processor?: boolean; listeners?: boolean; approvers?: boolean }, nonce = 0n) {
    const msg = { nonce, setHash: await setHash() };
    const p = groups.processor ? (await sign([f.v.processor], 'Rotation', msg))[0]! : '0x';
    const l = groups.listeners ? await sign(f.v.listeners.slice(0, f.v.listenerQuorum), 'Rotation', msg) : [];
    const a = groups.approvers ? await sign(quorum(), 'Rotation', msg) : [];
    return mined(chain, f.bridge.write.proposeRotation([nonce, setArg(next), p, l, a]));
  }
  const wait = async (seconds: bigint) => {
    await chain.testClient.increaseTime({ seconds: Number(seconds) });
    await chain.testClient.mine({ blocks: 1 });
  };

  it('pausing blocks actions and claims; unpause needs the approver quorum and works while paused', async () => {
    await pause();
    const act = { kind: Kind.Release, token: NATIVE, recipient: key('r').address, amount: 1n };
    const s = await authorize(f.v, f.domain, 1n, act);
    await expectCustomError(mined(chain, f.bridge.write.execute([1n, act, s.processorSig, s.approverSigs])), 'BridgePaused');
    await expectCustomError(mined(chain, f.bridge.write.claim([NATIVE])), 'BridgePaused');
    const one = await sign(f.v.approvers.slice(0, 1), 'Unpause', { nonce: 0n });
    await expectCustomError(mined(chain, f.bridge.write.unpause([0n, one])), 'QuorumNotReached');
    await mined(chain, f.bridge.write.unpause([0n, await sign(quorum(), 'Unpause', { nonce: 0n })]));
    assert.equal(await f.bridge.read.paused(), false);
    await mined(chain, f.bridge.write.execute([1n, act, s.processorSig, s.approverSigs]));
    await expectCustomError(mined(chain, f.bridge.write.unpause([0n, await sign(quorum(), 'Unpause', { nonce: 0n })])), 'NotPaused');
  });

  it('token settings need the processor and the approver quorum, with their own nonce', async () => {
    const token = f.klx.address;
    const s = settings(false, false, 5n);
    const msg = { nonce: 0n, token, ...s };
    const [p] = await sign([f.v.processor], 'TokenSettings', msg);
    const a = await sign(quorum(), 'TokenSettings', msg);
    await expectCustomError(mined(chain, f.bridge.write.setTokenSettings([0n, token, s, a[0]!, a])), 'NotProcessor');
    await expectCustomError(mined(chain, f.bridge.write.setTokenSettings([0n, token, s, p!, a.slice(0, 1)])), 'QuorumNotReached');
    await expectCustomError(mined(chain, f.bridge.write.setTokenSettings([1n, token, s, p!, a])), 'BadNonce');
    await mined(chain, f.bridge.write.setTokenSettings([0n, token, s, p!, a]));
    assert.deepEqual(await f.bridge.read.tokenSettings([token]), [false, false, 5n]);
    await expectCustomError(mined(chain, f.bridge.write.setTokenSettings([0n, token, s, p!, a])), 'BadNonce'); // replay
    // Controls are not in the action sequence.
    assert.equal(await f.bridge.read.nextActionId(), 1n);
  });

  it('a rotation needs two of the three groups; a set signed by the wrong keys is refused', async () => {
    await expectCustomError(propose({ processor: true }), 'RotationNotApproved');
    await expectCustomError(propose({ approvers: true }), 'RotationNotApproved');
    const msg = { nonce: 0n, setHash: await setHash() };
    const wrongApprovers = await Promise.all(next.approvers.slice(0, 3).map((k) => signControl(k, f.domain, 'Rotation', CONTROL.Rotation, msg)));
    const [p] = await sign([f.v.processor], 'Rotation', msg);
    await expectCustomError(mined(chain, f.bridge.write.proposeRotation([0n, setArg(next), p!, [], wrongApprovers])), 'UnknownSigner');
    const wrongProcessor = (await sign([next.processor], 'Rotation', msg))[0]!;
    await expectCustomError(mined(chain, f.bridge.write.proposeRotation([0n, setArg(next), wrongProcessor, [], await sign(quorum(), 'Rotation', msg)])), 'NotProcessor');
    await propose({ listeners: true, approvers: true });
  });

  it('a rotation takes effect only after its timelock; then the new set signs and the old one no longer does', async () => {
    await propose({ processor: true, listeners: true });
    await expectCustomError(mined(chain, f.bridge.write.executeRotation([setArg(next)])), 'RotationTimelocked');
    await wait(DELAY);
    await expectCustomError(mined(chain, f.bridge.write.executeRotation([setArg(validators(3, 2, 3, 2, 'other'))])), 'RotationSetMismatch');
    await mined(chain, f.bridge.write.executeRotation([setArg(next)]));
    assert.equal((await f.bridge.read.processor()).toLowerCase(), next.processor.address.toLowerCase());
    const act = { kind: Kind.Release, token: NATIVE, recipient: key('r').address, amount: 1n };
    const old = await authorize(f.v, f.domain, 1n, act);
    await expectCustomError(mined(chain, f.bridge.write.execute([1n, act, old.processorSig, old.approverSigs])), 'NotProcessor');
    const fresh = await authorize(next, f.domain, 1n, act);
    await mined(chain, f.bridge.write.execute([1n, act, fresh.processorSig, fresh.approverSigs]));
  });

  it('a guardian can pause during a pending rotation (which then cannot execute); the approver quorum cancels it while paused', async () => {
    await propose({ processor: true, approvers: true });
    await pause();
    await wait(DELAY);
    await expectCustomError(mined(chain, f.bridge.write.executeRotation([setArg(next)])), 'BridgePaused');
    const h = await setHash();
    await expectCustomError(mined(chain, f.bridge.write.cancelRotation([0n, await sign(f.v.approvers.slice(0, 1), 'CancelRotation', { nonce: 0n, setHash: h })])), 'QuorumNotReached');
    await mined(chain, f.bridge.write.cancelRotation([0n, await sign(quorum(), 'CancelRotation', { nonce: 0n, setHash: h })]));
    assert.deepEqual(await f.bridge.read.pendingRotation(), ['0x' + '00'.repeat(32), 0n, false]);
    await mined(chain, f.bridge.write.unpause([0n, await sign(quorum(), 'Unpause', { nonce: 0n })]));
    await expectCustomError(mined(chain, f.bridge.write.executeRotation([setArg(next)])), 'NoPendingRotation');
  });

  it('a key replaces itself with its own signature, after the timelock; a stranger or a member as the new key is refused', async () => {
    const old = f.v.approvers[1]!;
    const fresh = key('fresh-approver');
    const msg = (newKey: Hex) => ({ nonce: 0n, oldKey: old.address, newKey });
    const bySelf = await signControl(old, f.domain, 'SelfReplace', CONTROL.SelfReplace, msg(fresh.address));
    const byOther = await signControl(f.v.approvers[0]!, f.domain, 'SelfReplace', CONTROL.SelfReplace, msg(fresh.address));
    await expectCustomError(mined(chain, f.bridge.write.proposeSelfReplace([0n, old.address, fresh.address, byOther])), 'InvalidSignature');
    const toMember = await signControl(old, f.domain, 'SelfReplace', CONTROL.SelfReplace, msg(f.v.approvers[0]!.address));
    await expectCustomError(mined(chain, f.bridge.write.proposeSelfReplace([0n, old.address, f.v.approvers[0]!.address, toMember])), 'InvalidValidatorSet');
    await mined(chain, f.bridge.write.proposeSelfReplace([0n, old.address, fresh.address, bySelf]));
    const replaced = { ...f.v, approvers: f.v.approvers.map((a) => (a === old ? fresh : a)) };
    await wait(DELAY);
    await mined(chain, f.bridge.write.executeRotation([setArg(replaced)]));
    assert.equal(await f.bridge.read.isApprover([fresh.address]), true);
    assert.equal(await f.bridge.read.isApprover([old.address]), false);
  });

  it('construction refuses weak quorums, zero keys and duplicate keys', async () => {
    const abi = await readAbi('KlxBridge');
    const bad = [
      { ...setArg(validators(4, 2, 3, 2)) }, // 2 of 4 is not a strict majority
      { ...setArg(validators(3, 2, 4, 2)) },
      { ...setArg(validators(3, 4, 3, 2)) }, // quorum above the group
      { ...setArg(validators()), processor: '0x0000000000000000000000000000000000000000' as Hex },
      { ...setArg(validators()), listeners: [f.v.approvers[0]!.address, f.v.listeners[1]!.address, f.v.listeners[2]!.address] },
    ];
    for (const set of bad) {
      await expectCustomError(chain.viem.deployContract('KlxBridge', [set, DELAY, [], []]), 'InvalidValidatorSet', abi);
    }
  });
});
