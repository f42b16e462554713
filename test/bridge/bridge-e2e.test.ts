/**
 * The bridge end to end on two EVM chains (anvil, chain ids 1 and 137), with every role a
 * separate process: deposits credited by listener quorum, withdrawals approved, co-signed,
 * landed in order by the submitter and settled by attested execution.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { zeroAddress, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { EvmAdapter } from '../../adapters/evm/evm-adapter.ts';
import { loadArtifact } from '../../adapters/evm/artifacts.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { claimMessage } from '../../relayer/ledger/chain-families.ts';
import { devnetAddress, devnetRoleAddress, devnetRoleEnv, devnetRoleKey, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import type { ActionRecord, EventRecord } from '../../relayer/ledger/bridge-state.ts';
import { toAttestation } from '../../relayer/listener/chain-listener.ts';
import type { ApiError } from '../../relayer/node/client.ts';
import { bridgeRecord, depositErc20, depositNative, erc20Balance, startBridgeDevnet, type BridgeDevnet, type EvmSide } from '../helpers/bridge-devnet.ts';
import { runCli, waitFor } from '../helpers/processes.ts';
import { PROJECT_ROOT } from '../contracts/evm-chain.ts';

const alice = devnetAddress('alice');

describe('bridge end to end (EVM)', () => {
  let d: BridgeDevnet;
  const nonces = new Map<string, bigint>();
  const withdraw = async (user: string, chain: string, asset: string, amount: bigint, recipient: string) => {
    const key = devnetUser(user);
    const sender = devnetAddress(user);
    const nonce = nonces.get(user) ?? (await d.hub.nextNonce(sender));
    const tx = signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender, lane: 0, nonce, body: { chain, asset, amount: amount.toString(), recipient } }, key);
    const receipt = await d.hub.submit(tx);
    nonces.set(user, nonce + 1n);
    return receipt;
  };
  const balance = async (address: string, asset = 'KLX') => BigInt((await d.hub.balances(address)).balances[asset] ?? '0');
  const klxBalance = (address: string) => balance(address);
  const settled = (chain: string, id: bigint) =>
    waitFor(`action ${chain}/${id} settled`, async () => {
      const a = await bridgeRecord<ActionRecord>(d, `action/${chain}/${id}`);
      return a && a.status !== 'created' && a.status !== 'signed' ? a : null;
    }, 60_000);
  const eventOf = (chain: string, txHash: string) =>
    waitFor(`event of ${txHash}`, async () => (await bridgeRecord<{ events: EventRecord[] }>(d, `events/${chain}?txHash=${txHash}`))?.events[0], 60_000);
  const adapter = (side: EvmSide) =>
    new EvmAdapter({ chain: side.chain.name, rpcUrl: side.chain.rpcUrl, deployment: side.chain.deployment, confirmations: { kind: 'blocks', count: 2 } });

  before(async () => {
    d = await startBridgeDevnet('e2e');
  });
  after(async () => {
    await d?.stop();
  });

  it('credits an ERC20 KLX deposit on Ethereum once 3 of 5 listeners attest it', async () => {
    const eth = d.evm.ethereum;
    const token = eth.chain.deployment.klxToken as Address;
    const before = await klxBalance(alice);
    await depositErc20(eth, eth.treasury, token, 5n * 10n ** 18n, alice);
    await waitFor('credit', async () => (await klxBalance(alice)) === before + 5n * 10n ** 9n, 60_000);
  });

  it('reobserve re-examines a transaction: final, applied by the hub, nothing attested twice', async () => {
    const eth = d.evm.ethereum;
    const hash = await depositErc20(eth, eth.treasury, eth.chain.deployment.klxToken as Address, 10n ** 18n, alice);
    await eventOf('ethereum', hash);
    const r = await runCli(['reobserve', 'ethereum', hash, '--config', d.cluster.configFile, '--schema', `${d.schemaPrefix}reobserve`], {
      ...devnetRoleEnv('listener-0'),
      DATABASE_URL: d.db.url,
      KLX_LOG_LEVEL: 'warn',
    });
    assert.equal(r.code, 0, r.output);
    const report = JSON.parse(r.output.slice(r.output.indexOf('{'))) as { events: { kind: string; final: boolean; hub: string; attested: boolean }[] };
    assert.deepEqual(report.events.map((e) => [e.kind, e.final, e.hub.split(':')[0], e.attested]), [['deposit', true, 'credited', false]]);
  });

  it('withdraws KLX to Ethereum: approved, co-signed, executed on chain and settled on the hub', async () => {
    const eth = d.evm.ethereum;
    const token = eth.chain.deployment.klxToken as Address;
    const recipient = eth.user.account?.address as Address;
    const receipt = await withdraw('alice', 'ethereum', 'KLX', 2n * 10n ** 9n, recipient);
    assert.ok(receipt.height);
    const action = await waitFor('settled', async () => {
      const a = await bridgeRecord<ActionRecord>(d, 'action/ethereum/1');
      return a?.status === 'executed' ? a : null;
    }, 60_000);
    assert.equal(action.recipient, recipient);
    assert.equal(await erc20Balance(eth, token, recipient), 2n * 10n ** 18n);
  });

  it('credits only the true amount when 2 of 5 listeners are down and lie in their place', async () => {
    const eth = d.evm.ethereum;
    const token = eth.chain.deployment.klxToken as Address;
    await d.cluster.kill('listener-3');
    await d.cluster.kill('listener-4');
    const bob = devnetAddress('bob');
    const before = await klxBalance(bob);
    const hash = await depositErc20(eth, eth.treasury, token, 3n * 10n ** 18n, bob);
    const [event] = await adapter(eth).eventsOfTx(hash);
    assert.ok(event?.kind === 'deposit');
    const lie = { ...toAttestation(event), amount: (30n * 10n ** 18n).toString() };
    for (const liar of ['listener-3', 'listener-4']) {
      const key = devnetRoleKey(liar);
      const sender = devnetRoleAddress(liar);
      const tx = signTx({ network: 'devnet', channel: 'bridge', type: 'attest', sender, lane: 9, nonce: await d.hub.nextNonce(sender, 9), body: { chain: 'ethereum', items: [lie] } }, key);
      await d.hub.submit(tx);
    }
    const ev = await eventOf('ethereum', hash);
    assert.equal(ev.outcome, 'credited');
    assert.equal(await klxBalance(bob), before + 3n * 10n ** 9n, 'the three honest listeners decide: the true amount');
    d.cluster.restartRole('listener-3');
    d.cluster.restartRole('listener-4');
  });

  it('makes a deposit with a malformed hub recipient claimable, then credits it on proof from the refund address', async () => {
    const eth = d.evm.ethereum;
    const token = eth.chain.deployment.klxToken as Address;
    const refund = eth.user.account;
    assert.ok(refund);
    // The treasury pays; the user is the refund address.
    const hash = await depositErc20(eth, eth.treasury, token, 10n ** 18n, 'klxd1this-is-not-an-address', refund.address);
    const ev = await eventOf('ethereum', hash);
    assert.equal(ev.outcome, 'claimable');
    const claimer = devnetAddress('exchange');
    const before = await klxBalance(claimer);
    const proof = await eth.user.signMessage({ account: refund, message: claimMessage('devnet', 'bridge', 'ethereum', ev.eventId, claimer) });
    const key = devnetUser('exchange');
    const tx = signTx({ network: 'devnet', channel: 'bridge', type: 'claim-deposit', sender: claimer, lane: 3, nonce: await d.hub.nextNonce(claimer, 3), body: { chain: 'ethereum', eventId: ev.eventId, to: claimer, proof } }, key);
    await d.hub.submit(tx);
    assert.equal(await klxBalance(claimer), before + 10n ** 9n);
    const again = signTx({ ...tx, nonce: tx.nonce + 1n }, key);
    await assert.rejects(d.hub.submit(again), (e: ApiError) => e.code === 'NOTHING_TO_CLAIM');
  });

  it('returns a claimable deposit and a stray amount to their refund addresses once 2 approvers vote (operator CLI)', async () => {
    const eth = d.evm.ethereum;
    const token = eth.chain.deployment.klxToken as Address;
    const [refundA, refundB] = [privateKeyToAccount(generatePrivateKey()).address, privateKeyToAccount(generatePrivateKey()).address];
    const claimable = await eventOf('ethereum', await depositErc20(eth, eth.treasury, token, 10n ** 18n, 'klxd1not-an-address-either', refundA));
    // One wei more than the hub's 9 decimals of KLX can carry: stray, nothing credited.
    const stray = await eventOf('ethereum', await depositErc20(eth, eth.treasury, token, 10n ** 18n + 1n, alice, refundB));
    assert.deepEqual([claimable.outcome, stray.outcome], ['claimable', 'stray']);
    const vote = async (approver: string, eventId: string) => {
      const r = await runCli(['return-deposit', 'ethereum', eventId, '--config', d.cluster.configFile], { ...devnetRoleEnv(approver), DATABASE_URL: d.db.url, KLX_LOG_LEVEL: 'warn' });
      assert.equal(r.code, 0, r.output);
      return JSON.parse(r.output.slice(r.output.indexOf('{'))) as { votes: string[] | null; outcome: string | undefined };
    };
    const first = await vote('approver-0', claimable.eventId);
    assert.deepEqual(first.votes, [devnetRoleAddress('approver-0')], 'one vote of two: waiting');
    const second = await vote('approver-1', claimable.eventId);
    assert.match(second.outcome ?? '', new RegExp(`returned to ${refundA} as action \\d+`));
    await vote('approver-2', stray.eventId);
    const strayDone = await vote('approver-0', stray.eventId);
    const actionOf = (outcome: string | undefined) => BigInt(/as action (\d+)/.exec(outcome ?? '')?.[1] ?? '0');
    const [a, b] = [await settled('ethereum', actionOf(second.outcome)), await settled('ethereum', actionOf(strayDone.outcome))];
    assert.deepEqual([a.status, b.status], ['executed', 'executed']);
    assert.equal(await erc20Balance(eth, token, refundA), 10n ** 18n);
    assert.equal(await erc20Balance(eth, token, refundB), 10n ** 18n + 1n, 'the exact chain amount, wei included');
    const refused = await runCli(['return-deposit', 'ethereum', stray.eventId, '--config', d.cluster.configFile], { ...devnetRoleEnv('approver-1'), DATABASE_URL: d.db.url, KLX_LOG_LEVEL: 'warn' });
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /neither claimable nor stray/);
  });

  it('consumes the id of a payout to a reverting receiver, leaves it claimable on the chain, and the queue continues', async () => {
    const eth = d.evm.ethereum;
    assert.equal((await eventOf('ethereum', await depositNative(eth, eth.user, 10n ** 18n, alice))).outcome, 'credited');
    const artifact = JSON.parse(readFileSync(`${PROJECT_ROOT}/artifacts/contracts/evm/mocks/TestTokens.sol/RevertingReceiver.json`, 'utf8')) as { abi: Abi; bytecode: Hex };
    const deployHash = await eth.treasury.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, account: eth.treasury.account as never, chain: eth.treasury.chain });
    const receiver = (await eth.public.waitForTransactionReceipt({ hash: deployHash, pollingInterval: 20 })).contractAddress as Address;
    const next = BigInt((await bridgeRecord<{ cursor: { nextActionId: string } }>(d, 'chain/ethereum'))?.cursor.nextActionId ?? '0');
    await withdraw('alice', 'ethereum', 'ETH', 10n ** 17n, receiver);
    const userAddr = eth.user.account?.address as Address;
    const before = await eth.public.getBalance({ address: userAddr });
    await withdraw('alice', 'ethereum', 'ETH', 2n * 10n ** 17n, userAddr);
    assert.equal((await settled('ethereum', next)).status, 'claimable-on-chain');
    assert.equal((await settled('ethereum', next + 1n)).status, 'executed');
    assert.equal(await eth.public.getBalance({ address: userAddr }), before + 2n * 10n ** 17n);
    const bridgeAbi = loadArtifact('KlxBridge').abi;
    const claimable = await eth.public.readContract({ address: eth.chain.deployment.bridge, abi: bridgeAbi, functionName: 'claimable', args: [zeroAddress, receiver] });
    assert.equal(claimable, 10n ** 17n);
  });

  it('mints bridged KLX on Polygon for a withdrawal and credits it back when deposited (burnt) there', async () => {
    const pol = d.evm.polygon;
    const token = pol.chain.deployment.klxToken as Address;
    const user = pol.user.account?.address as Address;
    await withdraw('alice', 'polygon', 'KLX', 4n * 10n ** 9n, user);
    assert.equal((await settled('polygon', 1n)).status, 'executed');
    assert.equal(await erc20Balance(pol, token, user), 4n * 10n ** 18n);
    const bob = devnetAddress('bob');
    const before = await klxBalance(bob);
    await depositErc20(pol, pol.user, token, 10n ** 18n, bob);
    await waitFor('credit from polygon', async () => (await klxBalance(bob)) === before + 10n ** 9n, 60_000);
    assert.equal(await erc20Balance(pol, token, user), 3n * 10n ** 18n);
  });

  it('refuses a withdrawal to a malformed address, of an unsupported asset or of an unusable amount, leaving the balance unchanged', async () => {
    const eth = d.evm.ethereum;
    const user = eth.user.account?.address as Address;
    const before = await klxBalance(alice);
    const cases: [string, string, bigint, string, string][] = [
      ['ethereum', 'KLX', 10n ** 9n, '0x12345', 'BAD_CHAIN_ADDRESS'],
      ['ethereum', 'KLX', 10n ** 9n, user.toLowerCase().replace(/^0x/, '0X'), 'BAD_CHAIN_ADDRESS'],
      ['polygon', 'ETH', 10n ** 9n, user, 'UNSUPPORTED_ASSET'],
      ['ethereum', 'KLX', 0n, user, 'BAD_AMOUNT'],
      ['ethereum', 'KLX', 10n ** 30n, user, 'INSUFFICIENT_BALANCE'],
      ['solana', 'KLX', 10n ** 9n, user, 'UNKNOWN_CHAIN'],
    ];
    for (const [chain, asset, amount, recipient, code] of cases) {
      await assert.rejects(withdraw('alice', chain, asset, amount, recipient), (e: ApiError) => {
        assert.equal(e.code, code, `${chain} ${asset} ${amount} ${recipient}`);
        return !e.retriable;
      });
      nonces.delete('alice'); // a refused transaction consumes no nonce
    }
    assert.equal(await klxBalance(alice), before);
  });
});
