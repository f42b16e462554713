/**
 * Issue 5 end to end on the EVM devnet (anvil, every role a separate process): the
 * pending-funds FIFO seen and cancelled through the CLI and released by a top-up that
 * listeners attest; a poison action that always reverts, skipped by a hard override; and a
 * custody decrease without an attested withdrawal, which halts the chain. The tests share one
 * devnet and run in this order (the last one halts Ethereum).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zeroAddress, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { EvmAdapter } from '../../adapters/evm/evm-adapter.ts';
import { klxBridgeAbi } from '../../adapters/evm/evm-codec.ts';
import { signedOf } from '../../relayer/bridge/action-records.ts';
import { treasuryAddress } from '../../relayer/ledger/custody-sync-rules.ts';
import { devnetAddress, devnetRoleEnv, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import { devnetEvmKey, DEVNET_EVM_USER_KEY } from '../../relayer/devnet/evm-keys.ts';
import type { ActionRecord } from '../../relayer/ledger/bridge-state.ts';
import type { ApiError } from '../../relayer/node/client.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { bridgeRecord, depositNative, startBridgeDevnet, type BridgeDevnet } from '../helpers/bridge-devnet.ts';
import { runCli, waitFor } from '../helpers/processes.ts';
import { CONTROL, signControl } from '../contracts/bridge-fixture.ts';

const ETH = 10n ** 18n;
const keyFile = (user: string) => {
  const file = join(tmpdir(), `klx-custody-e2e-${user}-${process.pid}.key`);
  writeFileSync(file, devnetUser(user).exportSeedHex(), { mode: 0o600 });
  return file;
};

describe('pending funds, custody accounting and the hard override end to end (EVM)', () => {
  let d: BridgeDevnet;
  let recipient: Address;
  const balance = async (address: string, asset = 'ETH') => BigInt((await d.hub.balances(address)).balances[asset] ?? '0');
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli([...args, '--node', d.cluster.hubUrl], env);
    return { ...r, json: () => JSON.parse(r.output.slice(r.output.indexOf('{'))) as Record<string, unknown> };
  };
  const withdrawCli = async (user: string, amount: bigint) => {
    const r = await cli(['withdraw', '--key-file', keyFile(user), '--chain', 'ethereum', '--asset', 'ETH', '--amount', amount.toString(), '--recipient', recipient]);
    assert.equal(r.code, 0, r.output);
    return r.json();
  };
  const settled = (id: string | bigint) =>
    waitFor(`action ethereum/${id} settled`, async () => {
      const a = await bridgeRecord<ActionRecord>(d, `action/ethereum/${id}`);
      return a && a.status !== 'created' && a.status !== 'signed' ? a : null;
    }, 90_000);
  const chainEth = (a: Address) => d.evm.ethereum.public.getBalance({ address: a });

  before(async () => {
    d = await startBridgeDevnet('custody');
    recipient = privateKeyToAccount(DEVNET_EVM_USER_KEY).address;
  });
  after(async () => {
    await d?.stop();
  });

  it('a withdrawal custody cannot cover waits in the FIFO; the CLI shows positions and cancels; a top-up credits the treasury and releases the rest in order', async () => {
    // Ethereum's bridge holds no ETH yet: every ETH withdrawal waits, in arrival order.
    const first = await withdrawCli('alice', 1n * ETH);
    assert.deepEqual([first.status, first.position, first.amountAhead], ['waiting', 1, '0']);
    const second = await withdrawCli('bob', ETH / 2n);
    assert.deepEqual([second.status, second.position, second.amountAhead], ['waiting', 2, ETH.toString()]);
    const third = await withdrawCli('alice', ETH / 5n);
    assert.deepEqual([third.position, third.amountAhead], [3, ((3n * ETH) / 2n).toString()]);
    const queue = await cli(['pending', 'ethereum', 'ETH', '--owner', devnetAddress('alice')]);
    assert.equal(queue.code, 0, queue.output);
    const listed = queue.json() as { waiting: number; transfers: { seq: string; position: number }[] };
    assert.equal(listed.waiting, 3);
    assert.deepEqual(listed.transfers.map((t) => t.position), [1, 3], "alice's own transfers, with their places in the whole queue");

    const bobBefore = await balance(devnetAddress('bob'));
    const notHis = await cli(['pending-cancel', 'ethereum', 'ETH', String(second.seq), '--key-file', keyFile('alice')]);
    assert.equal(notHis.code, 1);
    assert.match(notHis.output, /NOT_OWNER/);
    const cancelled = await cli(['pending-cancel', 'ethereum', 'ETH', String(second.seq), '--key-file', keyFile('bob')]);
    assert.equal(cancelled.code, 0, cancelled.output);
    assert.equal(await balance(devnetAddress('bob')), bobBefore + ETH / 2n, 'refunded on the hub at once');

    // 1.2 ETH sent straight to the bridge (no deposit): the listeners' custody sync credits the treasury.
    const paidBefore = await chainEth(recipient);
    const treasury = treasuryAddress('klxd');
    await d.evm.ethereum.public.waitForTransactionReceipt({
      hash: await d.evm.ethereum.treasury.sendTransaction({ to: d.evm.ethereum.chain.deployment.bridge, value: (6n * ETH) / 5n, account: d.evm.ethereum.treasury.account!, chain: d.evm.ethereum.treasury.chain }),
    });
    await waitFor('the top-up credited to the treasury', async () => (await balance(treasury)) === (6n * ETH) / 5n, 60_000);
    const firstAction = await waitFor('the head left the FIFO', async () => (await bridgeRecord<{ actionId: string | null }>(d, `pending/ethereum/ETH/${String(first.seq)}`))?.actionId, 30_000);
    const thirdAction = await waitFor('the next one too', async () => (await bridgeRecord<{ actionId: string | null }>(d, `pending/ethereum/ETH/${String(third.seq)}`))?.actionId, 30_000);
    assert.equal(BigInt(thirdAction), BigInt(firstAction) + 1n, 'actions follow arrival order');
    const [a, b] = [await settled(firstAction), await settled(thirdAction)];
    assert.deepEqual([a.status, b.status], ['executed', 'executed']);
    assert.equal((await chainEth(recipient)) - paidBefore, (6n * ETH) / 5n);
    assert.equal(await balance(treasury), (6n * ETH) / 5n, 'credited exactly once');
  });

  it('a poison action holds the queue until a skip override: the no-op consumes its id, the original is refused by the contract, later actions land in order, the amount is refunded once', async () => {
    const eth = d.evm.ethereum;
    const bridge = eth.chain.deployment.bridge;
    // A 24 h outflow cap of 0.5 ETH (signed by the devnet processor and approver quorum): a 1 ETH release always reverts.
    const nonce = await eth.public.readContract({ address: bridge, abi: klxBridgeAbi(), functionName: 'settingsNonce' });
    const settings = { allowed: true, mintBurn: false, dailyCap: ETH / 2n };
    const msg = { nonce, token: zeroAddress, ...settings };
    const domain = { chainId: eth.chain.deployment.chainId, verifyingContract: bridge };
    const sign = (label: string) => signControl(privateKeyToAccount(devnetEvmKey(label)), domain, 'TokenSettings', CONTROL.TokenSettings, msg);
    const approverSigs = [await sign('approver-0'), await sign('approver-1')];
    await eth.public.waitForTransactionReceipt({
      hash: await eth.treasury.writeContract({ address: bridge, abi: klxBridgeAbi(), functionName: 'setTokenSettings', args: [nonce, zeroAddress, settings, await sign('processor'), approverSigs], account: eth.treasury.account!, chain: eth.treasury.chain }),
    });
    // Custody for all of it: 3 ETH deposited for carol.
    await depositNative(eth, eth.user, 3n * ETH, devnetAddress('carol'));
    await waitFor('the deposit credited', async () => (await balance(devnetAddress('carol'))) >= 3n * ETH, 60_000);

    const aliceBefore = await balance(devnetAddress('alice'));
    const poison = await withdrawCli('alice', 1n * ETH);
    assert.equal(poison.status, 'action');
    const n = BigInt(String(poison.actionId));
    const later = [await withdrawCli('alice', ETH / 10n), await withdrawCli('alice', ETH / 10n)].map((w) => BigInt(String(w.actionId)));
    assert.deepEqual(later, [n + 1n, n + 2n]);
    const original = await waitFor('the poison action co-signed', async () => {
      const a = await bridgeRecord<ActionRecord>(d, `action/ethereum/${n}`);
      return a?.status === 'signed' ? a : null;
    }, 60_000);
    // It is tried and reverts; nothing after it lands meanwhile.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(await eth.public.readContract({ address: bridge, abi: klxBridgeAbi(), functionName: 'nextActionId' }), n);
    assert.equal((await bridgeRecord<ActionRecord>(d, `action/ethereum/${n + 1n}`))?.execution, null);

    for (const [args, role] of [[['propose', 'ethereum', String(n), '--skip'], 'approver-0'], [['confirm', 'ethereum', String(n)], 'approver-1']] as const) {
      const r = await runCli(['override', ...args, '--config', d.cluster.configFile], { ...devnetRoleEnv(role), DATABASE_URL: d.db.url, KLX_LOG_LEVEL: 'warn' });
      assert.equal(r.code, 0, r.output);
    }
    const skipped = await settled(n);
    assert.equal(skipped.status, 'skipped');
    assert.equal(skipped.kind, 'noop');
    const [x, y] = [await settled(n + 1n), await settled(n + 2n)];
    assert.deepEqual([x.status, y.status], ['executed', 'executed']);
    const blockOf = async (a: ActionRecord) => (await eth.public.getTransactionReceipt({ hash: a.execution?.txHash as `0x${string}` })).blockNumber;
    const [bn, b1, b2] = [await blockOf(skipped), await blockOf(x), await blockOf(y)];
    assert.ok(bn <= b1 && b1 <= b2, 'n, n + 1, n + 2 landed in ascending order');
    assert.equal(await balance(devnetAddress('alice')), aliceBefore - ETH / 5n, 'the skipped 1 ETH came back; the two small ones were paid');

    // The original, fully signed payload for id n: the contract refuses it now.
    const adapter = new EvmAdapter({ chain: 'ethereum', rpcUrl: eth.chain.rpcUrl, deployment: eth.chain.deployment, confirmations: { kind: 'blocks', count: 1 } });
    const payer = privateKeyToAccount(DEVNET_EVM_USER_KEY);
    const record = await adapter.prepareSubmission([signedOf(adapter, original)], DEVNET_EVM_USER_KEY, BigInt(await eth.public.getTransactionCount({ address: payer.address })));
    await adapter.broadcast(record);
    const receipt = await eth.public.waitForTransactionReceipt({ hash: record.txHash as `0x${string}` });
    assert.equal(receipt.status, 'reverted');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await balance(devnetAddress('alice')), aliceBefore - ETH / 5n, 'refunded exactly once');
  });

  it('custody that falls without an attested withdrawal halts the chain, and withdrawals are refused', async () => {
    const bridge = d.evm.ethereum.chain.deployment.bridge;
    const held = await chainEth(bridge);
    await d.evm.ethereum.rpc('anvil_setBalance', [bridge, `0x${(held - ETH / 10n).toString(16)}`]);
    const cursor = await waitFor('ethereum halted', async () => {
      const c = await bridgeRecord<{ cursor: { halted: string | null } }>(d, 'chain/ethereum');
      return c?.cursor.halted ? c.cursor : null;
    }, 60_000);
    assert.match(cursor.halted ?? '', /without an attested withdrawal/);
    const sender = devnetAddress('exchange');
    const tx = signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender, lane: 0, nonce: await d.hub.nextNonce(sender), body: { chain: 'ethereum', asset: 'KLX', amount: '1000', recipient } }, devnetUser('exchange'));
    await assert.rejects(d.hub.submit(tx), (e: ApiError) => e.code === 'CHAIN_HALTED');
  });
});
