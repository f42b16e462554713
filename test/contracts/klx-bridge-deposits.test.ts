/** KlxBridge deposits: measured amounts, consecutive event ids, and every refusal. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encodeFunctionData, getAddress, parseEther, zeroAddress } from 'viem';
import { createEvmChain, expectCustomError, type EvmChain } from './evm-chain.ts';
import { CONTROL, deployBridge, key, mined, NATIVE, setToken, settings, signControl } from './bridge-fixture.ts';

describe('KlxBridge deposits', () => {
  let chain: EvmChain;
  let f: Awaited<ReturnType<typeof deployBridge>>;
  const HUB = 'klxd1qp5vy5w84dm0xnce2wg8cvef3458a6s7kwkvqumqvugj348agpklj2m0hvw';
  const refund = key('refund').address;

  before(async () => {
    chain = await createEvmChain();
  });
  after(async () => chain.close());
  beforeEach(async () => {
    f = await deployBridge(chain);
    await mined(chain, f.klx.write.approve([f.bridge.address, (1n << 256n) - 1n], { account: f.treasury.account }));
  });

  const deposit = (amount: bigint, hub = HUB, refundTo = refund, token = f.klx.address) =>
    mined(chain, f.bridge.write.deposit([token, amount, hub, refundTo], { account: f.treasury.account }));

  it('credits the amount received under consecutive event ids starting at 1, with everything a listener needs', async () => {
    const r1 = await deposit(parseEther('3'));
    const r2 = await mined(chain, f.bridge.write.depositNative([HUB, refund], { value: parseEther('2'), account: f.treasury.account }));
    const [e1] = await f.bridge.getEvents.Deposit({}, { blockHash: r1.blockHash });
    const [e2] = await f.bridge.getEvents.Deposit({}, { blockHash: r2.blockHash });
    assert.deepEqual(e1?.args, { eventId: 1n, token: getAddress(f.klx.address), sender: getAddress(f.treasury.account.address), amount: parseEther('3'), hubRecipient: HUB, refundTo: getAddress(refund) });
    assert.equal(e2?.args.eventId, 2n);
    assert.equal(e2?.args.token, NATIVE);
    assert.equal(e2?.args.amount, parseEther('2'));
    assert.equal(await f.klx.read.balanceOf([f.bridge.address]), parseEther('3'));
    assert.equal(await f.bridge.read.nextEventId(), 3n);
  });

  it('a fee-on-transfer token credits what arrived', async () => {
    const fee = await chain.viem.deployContract('FeeOnTransferToken', [f.treasury.account.address, 10_000n]);
    await setToken(chain, f, fee.address, settings(true), 0n);
    await mined(chain, fee.write.approve([f.bridge.address, 10_000n], { account: f.treasury.account }));
    const r = await mined(chain, f.bridge.write.deposit([fee.address, 1000n, HUB, refund], { account: f.treasury.account }));
    const [e] = await f.bridge.getEvents.Deposit({}, { blockHash: r.blockHash });
    assert.equal(e?.args.amount, 990n);
    assert.equal(await fee.read.balanceOf([f.bridge.address]), 990n);
  });

  it('refuses address(0), a codeless token, a zero amount, a token not allow-listed, and a zero native deposit', async () => {
    await expectCustomError(deposit(1n, HUB, refund, zeroAddress), 'ZeroToken');
    await expectCustomError(deposit(1n, HUB, refund, key('eoa').address), 'TokenHasNoCode');
    await expectCustomError(deposit(0n), 'ZeroAmount');
    const other = await chain.viem.deployContract('KlxToken', [f.treasury.account.address]);
    await expectCustomError(deposit(1n, HUB, refund, other.address), 'TokenNotAllowed');
    await expectCustomError(mined(chain, f.bridge.write.depositNative([HUB, refund], { value: 0n })), 'ZeroAmount');
    assert.equal(await f.bridge.read.nextEventId(), 1n);
  });

  it('refuses an empty or over-long hub recipient and a zero refund address', async () => {
    await expectCustomError(deposit(1n, ''), 'BadHubRecipient');
    await expectCustomError(deposit(1n, 'k'.repeat(65)), 'BadHubRecipient');
    await deposit(1n, 'k'.repeat(64)); // the documented maximum is accepted (the hub checks the rest)
    await expectCustomError(deposit(1n, HUB, zeroAddress), 'ZeroRefundAddress');
    await expectCustomError(mined(chain, f.bridge.write.depositNative(['', refund], { value: 1n })), 'BadHubRecipient');
  });

  it('a malicious token that re-enters deposit cannot inflate the measured amount', async () => {
    const rnt = await chain.viem.deployContract('ReentrantToken', [f.treasury.account.address, 10_000n]);
    await setToken(chain, f, rnt.address, settings(true), 0n);
    await mined(chain, rnt.write.approve([f.bridge.address, 10_000n], { account: f.treasury.account }));
    // During transferFrom the token calls deposit again (as the token itself).
    await mined(chain, rnt.write.arm([f.bridge.address, encodeFunctionData({ abi: f.bridge.abi, functionName: 'deposit', args: [rnt.address, 500n, HUB, refund] })]));
    const r = await mined(chain, f.bridge.write.deposit([rnt.address, 100n, HUB, refund], { account: f.treasury.account }));
    assert.equal(await rnt.read.reentrySucceeded(), false);
    const events = await f.bridge.getEvents.Deposit({}, { blockHash: r.blockHash });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.args.amount, 100n);
    assert.equal(await rnt.read.balanceOf([f.bridge.address]), 100n);
  });

  it('deposits of a bridged (mint/burn) token burn what arrived', async () => {
    const bridged = await chain.viem.deployContract('KlxBridgedToken', [f.bridge.address]);
    await setToken(chain, f, bridged.address, settings(true, true), 0n);
    // Mint some to a user through a signed Mint action first.
    const { authorize, Kind } = await import('./bridge-fixture.ts');
    const user = chain.wallet(4);
    const act = { kind: Kind.Mint, token: bridged.address, recipient: user.account.address, amount: 50n };
    const s = await authorize(f.v, f.domain, 1n, act);
    await mined(chain, f.bridge.write.execute([1n, act, s.processorSig, s.approverSigs]));
    assert.equal(await bridged.read.totalSupply(), 50n);
    await mined(chain, bridged.write.approve([f.bridge.address, 50n], { account: user.account }));
    await mined(chain, f.bridge.write.deposit([bridged.address, 20n, HUB, refund], { account: user.account }));
    assert.equal(await bridged.read.totalSupply(), 30n);
    assert.equal(await bridged.read.balanceOf([f.bridge.address]), 0n);
  });

  it('pausing blocks deposits; a guardian pause needs a guardian signature', async () => {
    const stranger = await signControl(key('stranger'), f.domain, 'Pause', CONTROL.Pause, { nonce: 0n });
    await expectCustomError(mined(chain, f.bridge.write.pause([0n, stranger])), 'NotGuardian');
    const sig = await signControl(f.v.approvers[2]!, f.domain, 'Pause', CONTROL.Pause, { nonce: 0n });
    await mined(chain, f.bridge.write.pause([0n, sig]));
    await expectCustomError(deposit(1n), 'BridgePaused');
    await expectCustomError(mined(chain, f.bridge.write.depositNative([HUB, refund], { value: 1n })), 'BridgePaused');
    await expectCustomError(mined(chain, f.bridge.write.pause([0n, sig])), 'BadNonce'); // replayed
  });
});
