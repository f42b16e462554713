/**
 * The bridge end to end on two EVM chains (anvil, chain ids 1 and 137), with every role a
 * separate process: deposits credited by listener quorum, withdrawals approved, co-signed,
 * landed in order by the submitter and settled by attested execution.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Address } from 'viem';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { devnetAddress, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import type { ActionRecord } from '../../relayer/ledger/bridge-state.ts';
import { bridgeRecord, depositErc20, erc20Balance, startBridgeDevnet, type BridgeDevnet } from '../helpers/bridge-devnet.ts';
import { waitFor } from '../helpers/processes.ts';

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
  const klxBalance = async (address: string) => BigInt((await d.hub.balances(address)).balances.KLX ?? '0');

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
});
