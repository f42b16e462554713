/** KlxBridge actions: signatures, strict order, batches, payouts that never revert because of their recipient. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encodeFunctionData, getAddress, parseEther, type Hex } from 'viem';
import { createEvmChain, expectCustomError, type EvmChain } from './evm-chain.ts';
import { authorize, deployBridge, highSTwin, key, Kind, mined, NATIVE, setToken, settings, signAction, validators, withV, type Action } from './bridge-fixture.ts';

describe('KlxBridge actions', () => {
  let chain: EvmChain;
  let f: Awaited<ReturnType<typeof deployBridge>>;
  const alice = key('alice').address;

  before(async () => {
    chain = await createEvmChain();
  });
  after(async () => chain.close());
  beforeEach(async () => {
    f = await deployBridge(chain);
    // Custody: 1,000 KLX and 10 ETH.
    await mined(chain, f.klx.write.transfer([f.bridge.address, parseEther('1000')], { account: f.treasury.account }));
    await mined(chain, chain.wallet(0).sendTransaction({ to: f.bridge.address, value: parseEther('10') }));
  });

  const release = (amount: bigint, token: Hex = f.klx.address, recipient: Hex = alice): Action => ({ kind: Kind.Release, token, recipient, amount });
  async function execute(id: bigint, a: Action, auth?: { processorSig: Hex; approverSigs: Hex[] }) {
    const s = auth ?? (await authorize(f.v, f.domain, id, a));
    return mined(chain, f.bridge.write.execute([id, a, s.processorSig, s.approverSigs]));
  }

  it('executes action 1 with the processor and a quorum of approvers; emits id, payload hash and a new event id', async () => {
    const a = release(parseEther('5'));
    const receipt = await execute(1n, a);
    assert.equal(await f.klx.read.balanceOf([alice]), parseEther('5'));
    assert.equal(await f.bridge.read.nextActionId(), 2n);
    const [ev] = await f.bridge.getEvents.ActionExecuted({}, { blockHash: receipt.blockHash });
    assert.equal(ev?.args.actionId, 1n);
    assert.equal(ev?.args.payloadHash, await f.bridge.read.actionDigest([1n, a]));
    assert.equal(ev?.args.eventId, 1n);
    assert.equal(ev?.args.paid, true);
  });

  it('releases the native coin', async () => {
    const before = await chain.publicClient.getBalance({ address: alice });
    await execute(1n, release(parseEther('1'), NATIVE));
    assert.equal(await chain.publicClient.getBalance({ address: alice }), before + parseEther('1'));
  });

  it('refuses action n+1 before n, and n twice', async () => {
    const a = release(1n);
    await expectCustomError(execute(2n, a), 'ActionOutOfOrder');
    await execute(1n, a);
    await expectCustomError(execute(1n, a, await authorize(f.v, f.domain, 1n, a)), 'ActionOutOfOrder');
  });

  it('refuses a signed action replayed on another deployment (other address) and on another chain id', async () => {
    const a = release(1n);
    const auth = await authorize(f.v, f.domain, 1n, a);
    const second = await deployBridge(chain, f.v);
    await mined(chain, second.klx.write.transfer([second.bridge.address, 10n], { account: second.treasury.account }));
    await expectCustomError(second.bridge.write.execute([1n, { ...a, token: second.klx.address }, auth.processorSig, auth.approverSigs]), 'NotProcessor');
    await expectCustomError(second.bridge.write.execute([1n, a, auth.processorSig, auth.approverSigs]), 'NotProcessor');
    const polygon = await createEvmChain({ chainId: 137 });
    try {
      const p = await deployBridge(polygon, f.v);
      // Other chain id (the simulated chain reports reverts of sent transactions without data
      // for chain 137, so these are checked by simulation): the digest differs, so the
      // recovered signer is a stranger; signatures made for this chain id are accepted.
      await expectCustomError(p.bridge.simulate.execute([1n, a, auth.processorSig, auth.approverSigs]), 'NotProcessor');
      const sameDeployment = await authorize(f.v, { chainId: chain.chainId, verifyingContract: p.bridge.address }, 1n, a);
      await expectCustomError(p.bridge.simulate.execute([1n, a, sameDeployment.processorSig, sameDeployment.approverSigs]), 'NotProcessor');
      const onPolygon = { ...a, token: p.klx.address };
      const good = await authorize(f.v, { chainId: 137, verifyingContract: p.bridge.address }, 1n, onPolygon);
      await expectCustomError(p.bridge.simulate.execute([1n, onPolygon, good.processorSig, good.approverSigs]), 'InsufficientCustody');
    } finally {
      await polygon.close();
    }
  });

  it('refuses a signer outside the set, the same approver twice, and one approver short of the quorum', async () => {
    const a = release(1n);
    const auth = await authorize(f.v, f.domain, 1n, a, 1);
    const stranger = await signAction(key('stranger'), f.domain, 1n, a);
    await expectCustomError(execute(1n, a, { ...auth, approverSigs: [auth.approverSigs[0] as Hex, stranger] }), 'UnknownSigner');
    await expectCustomError(execute(1n, a, { ...auth, approverSigs: [auth.approverSigs[0] as Hex, auth.approverSigs[0] as Hex] }), 'DuplicateSigner');
    await expectCustomError(execute(1n, a, auth), 'QuorumNotReached');
    await expectCustomError(execute(1n, a, { ...auth, processorSig: stranger }), 'NotProcessor');
    // An approver cannot stand in for the processor.
    await expectCustomError(execute(1n, a, { processorSig: auth.approverSigs[0] as Hex, approverSigs: (await authorize(f.v, f.domain, 1n, a)).approverSigs }), 'NotProcessor');
  });

  it('refuses the high-s twin of a valid signature, v = 0/1, and garbage that makes ecrecover return zero', async () => {
    const a = release(1n);
    const auth = await authorize(f.v, f.domain, 1n, a);
    const [s0, s1] = auth.approverSigs as [Hex, Hex];
    await expectCustomError(execute(1n, a, { ...auth, processorSig: highSTwin(auth.processorSig) }), 'HighS');
    await expectCustomError(execute(1n, a, { ...auth, approverSigs: [s0, highSTwin(s1)] }), 'HighS');
    await expectCustomError(execute(1n, a, { ...auth, processorSig: withV(auth.processorSig, 0) }), 'BadV');
    await expectCustomError(execute(1n, a, { ...auth, processorSig: withV(auth.processorSig, 1) }), 'BadV');
    const zeroR = `0x${'00'.repeat(32)}${auth.processorSig.slice(66)}` as Hex;
    await expectCustomError(execute(1n, a, { ...auth, processorSig: zeroR }), 'InvalidSignature');
    await expectCustomError(execute(1n, a, { ...auth, processorSig: '0x1234' }), 'BadSignatureLength');
    await execute(1n, a, auth); // the genuine signatures still work
  });

  it('executes a batch of consecutive actions, and nothing of a batch with a gap or a bad signature in its middle', async () => {
    const acts = [release(1n), release(2n), release(3n)];
    const auths = await Promise.all(acts.map((a, i) => authorize(f.v, f.domain, BigInt(i + 1), a)));
    const send = (first: bigint, list: Action[], au: typeof auths) =>
      mined(chain, f.bridge.write.executeBatch([first, list, au.map((x) => x.processorSig), au.map((x) => x.approverSigs)]));
    const badMiddle = [...auths];
    badMiddle[1] = { ...auths[1]!, processorSig: auths[0]!.processorSig };
    await expectCustomError(send(1n, acts, badMiddle), 'NotProcessor');
    // A gap: actions signed as 1, 2, 4 sent as one batch starting at 1.
    const a4 = await authorize(f.v, f.domain, 4n, acts[2]!);
    await expectCustomError(send(1n, acts, [auths[0]!, auths[1]!, a4]), 'NotProcessor');
    assert.equal(await f.bridge.read.nextActionId(), 1n);
    assert.equal(await f.klx.read.balanceOf([alice]), 0n);
    await send(1n, acts, auths);
    assert.equal(await f.bridge.read.nextActionId(), 4n);
    assert.equal(await f.klx.read.balanceOf([alice]), 6n);
  });

  it('a no-op at n consumes n: the original action n can never execute afterwards', async () => {
    const original = release(parseEther('7'));
    const originalAuth = await authorize(f.v, f.domain, 1n, original);
    await execute(1n, { kind: Kind.NoOp, token: NATIVE, recipient: NATIVE, amount: 0n });
    await expectCustomError(execute(1n, original, originalAuth), 'ActionOutOfOrder');
    // Nor at the next id: the signature binds the id.
    await expectCustomError(execute(2n, original, originalAuth), 'NotProcessor');
    assert.equal(await f.klx.read.balanceOf([alice]), 0n);
  });

  it('a payout to a reverting receiver or a gas guzzler consumes the id and becomes claimable once, by that recipient only', async () => {
    for (const name of ['RevertingReceiver', 'GasGuzzler'] as const) {
      const receiver = await chain.viem.deployContract(name);
      const id = await f.bridge.read.nextActionId();
      const receipt = await execute(id, release(parseEther('1'), NATIVE, receiver.address));
      const [ev] = await f.bridge.getEvents.PayoutDeferred({}, { blockHash: receipt.blockHash });
      assert.equal(ev?.args.recipient, getAddress(receiver.address));
      assert.equal(await f.bridge.read.claimable([NATIVE, receiver.address]), parseEther('1'));
      assert.equal(await f.bridge.read.nextActionId(), id + 1n);
    }
    // Claimable native coin is not free custody: a release may not spend it.
    await expectCustomError(execute(3n, release(parseEther('9'), NATIVE)), 'InsufficientCustody');
  });

  it('a payout to a blocklisted address of a token is claimable once, by that recipient only, never redirected around the blocklist', async () => {
    const blk = await chain.viem.deployContract('BlocklistToken', [chain.wallet(0).account.address, 1000n]);
    await setToken(chain, f, blk.address, settings(true), 0n);
    await mined(chain, blk.write.transfer([f.bridge.address, 100n]));
    const blocked = chain.wallet(5);
    await mined(chain, blk.write.setBlocked([blocked.account.address, true]));
    await execute(1n, release(40n, blk.address, blocked.account.address));
    assert.equal(await f.bridge.read.claimable([blk.address, blocked.account.address]), 40n);
    // Someone else cannot claim it; the blocked recipient's claim fails and cannot be redirected;
    // once the issuer unblocks it, it claims exactly once.
    await expectCustomError(mined(chain, f.bridge.write.claim([blk.address], { account: chain.wallet(6).account })), 'NothingToClaim');
    await expectCustomError(mined(chain, f.bridge.write.claim([blk.address], { account: blocked.account })), 'ClaimFailed');
    const other = chain.wallet(7).account.address;
    await expectCustomError(mined(chain, f.bridge.write.claimTo([blk.address, other], { account: blocked.account })), 'ClaimToOtherAddress');
    await mined(chain, blk.write.setBlocked([blocked.account.address, false]));
    await mined(chain, f.bridge.write.claim([blk.address], { account: blocked.account }));
    assert.equal(await blk.read.balanceOf([blocked.account.address]), 40n);
    await expectCustomError(mined(chain, f.bridge.write.claim([blk.address], { account: blocked.account })), 'NothingToClaim');
  });

  it('a malicious token that re-enters during release cannot pay twice: the re-entry fails, id n+1 stays unexecuted', async () => {
    const rnt = await chain.viem.deployContract('ReentrantToken', [chain.wallet(0).account.address, 1000n]);
    await setToken(chain, f, rnt.address, settings(true), 0n);
    await mined(chain, rnt.write.transfer([f.bridge.address, 100n]));
    const a1 = release(10n, rnt.address);
    const a2 = release(10n, rnt.address);
    const auth2 = await authorize(f.v, f.domain, 2n, a2);
    await mined(chain, rnt.write.arm([f.bridge.address, encodeFunctionData({ abi: f.bridge.abi, functionName: 'execute', args: [2n, a2, auth2.processorSig, auth2.approverSigs] })]));
    await execute(1n, a1);
    assert.equal(await rnt.read.reentered(), true);
    assert.equal(await rnt.read.reentrySucceeded(), false);
    assert.equal(await f.bridge.read.nextActionId(), 2n, 'the re-entered execute of action 2 did not happen');
    assert.equal(await rnt.read.balanceOf([alice]), 10n, 'paid once');
    await mined(chain, rnt.write.arm(['0x0000000000000000000000000000000000000000', '0x']));
    await execute(2n, a2, auth2); // action 2 runs normally, once
    assert.equal(await rnt.read.balanceOf([alice]), 20n);
  });

  it('holds an action over the 24 h outflow cap until the window allows it', async () => {
    const capped = await deployBridge(chain, validators(), 3600n, { klx: parseEther('100') });
    await mined(chain, capped.klx.write.transfer([capped.bridge.address, parseEther('1000')], { account: capped.treasury.account }));
    const run = async (id: bigint, a: Action) => {
      const s = await authorize(capped.v, capped.domain, id, a);
      return mined(chain, capped.bridge.write.execute([id, a, s.processorSig, s.approverSigs]));
    };
    const big = { ...release(parseEther('60')), token: capped.klx.address };
    await run(1n, big);
    const args = await expectCustomError(run(2n, big), 'OutflowCapExceeded');
    assert.ok((args[2] as bigint) < parseEther('40.1'), 'about 40 left in the window');
    await chain.testClient.increaseTime({ seconds: 12 * 3600 });
    await chain.testClient.mine({ blocks: 1 });
    await run(2n, big); // half a day later, half the cap has refilled
    await expectCustomError(run(3n, { ...big, amount: parseEther('150') }), 'OutflowCapExceeded'); // more than the whole cap
  });

  it('amounts near 2^256 - 1 are refused cleanly (custody), never overflow', async () => {
    await expectCustomError(execute(1n, release((1n << 256n) - 1n)), 'InsufficientCustody');
    await expectCustomError(execute(1n, release((1n << 256n) - 1n, NATIVE)), 'InsufficientCustody');
  });
});
