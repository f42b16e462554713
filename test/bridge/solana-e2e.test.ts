/**
 * The bridge end to end on Solana with every role a separate `klx-bridge` process (issue 7):
 * the devnet's Solana cluster (bankrun JSON-RPC, real SPL Token / ATA / Memo programs), the
 * processor, 5 listeners, 3 approvers and the submitter, all configured from `solanaChains`
 * exactly as `npm run devnet` runs them. Users act through SolanaWallet, over JSON-RPC.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { NATIVE_MINT, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { BridgeCluster } from '../../relayer/devnet/bridge-cluster.ts';
import { startDevnetSolana, type DevnetSolanaChain } from '../../relayer/devnet/solana.ts';
import { SolanaWallet } from '../../relayer/devnet/solana-wallet.ts';
import { devnetSolanaKeypair } from '../../relayer/devnet/solana-keys.ts';
import { devnetAddress, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import type { ActionRecord, ClaimableRecord, CustodyRecord, EventRecord } from '../../relayer/ledger/bridge-state.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import { ChannelClient, type ApiError } from '../../relayer/node/client.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, waitFor } from '../helpers/processes.ts';
import { REDIS_URL } from '../helpers/bridge-devnet.ts';

const CHAIN = 'solana';
const alice = devnetAddress('alice');
const bob = devnetAddress('bob');

describe('bridge end to end (Solana), every role a process', () => {
  let db: TestDatabase;
  let sol: { chain: DevnetSolanaChain; stop: () => Promise<void> };
  let cluster: BridgeCluster;
  let hub: ChannelClient;
  let user: SolanaWallet;
  let klxMint: string;
  const record = async <T>(path: string): Promise<T | null> => {
    const r = await fetch(`${cluster.hubUrl}/v1/channels/bridge/bridge/${path}`);
    return r.status === 404 ? null : ((await r.json()) as T);
  };
  const balance = async (address: string, asset: string) => BigInt((await hub.balances(address)).balances[asset] ?? '0');
  const withdraw = async (asset: string, amount: bigint, recipient: string) => {
    const nonce = await hub.nextNonce(alice, 5);
    return hub.submit(signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender: alice, lane: 5, nonce, body: { chain: CHAIN, asset, amount: amount.toString(), recipient } }, devnetUser('alice')));
  };
  const actionOf = async (withdrawTx: string) => {
    const all = await record<{ records: ActionRecord[] }>(`action/${CHAIN}`);
    const a = all?.records.find((x) => x.withdrawTx === withdrawTx);
    assert.ok(a, `an action for withdrawal ${withdrawTx}`);
    return a;
  };
  const settled = (id: string) =>
    waitFor(`action ${id} settled`, async () => {
      const a = await record<ActionRecord>(`action/${CHAIN}/${id}`);
      return a && a.status !== 'created' && a.status !== 'signed' ? a : null;
    }, 90_000);
  const eventOf = (txHash: string) => waitFor(`event of ${txHash}`, async () => (await record<{ events: EventRecord[] }>(`events/${CHAIN}?txHash=${txHash}`))?.events[0], 60_000);
  const custody = async (asset: string) => BigInt((await record<CustodyRecord>(`custody/${CHAIN}/${asset}`))?.held ?? '0');

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klx-solana-e2e-'));
    db = await createTestDatabase('solana_e2e');
    sol = await startDevnetSolana(dir, 0, { slotMs: 150 });
    klxMint = sol.chain.deployment.klxMint ?? '';
    cluster = await BridgeCluster.start({
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      chains: [],
      solanaChains: [{ name: CHAIN, rpcUrl: sol.chain.rpcUrl, deploymentFile: sol.chain.deploymentFile }],
      dir,
      apiPort: await freePort(),
      schemaPrefix: `s${randomBytes(3).toString('hex')}_`,
      confirmationBlocks: 2,
      fresh: true,
      ...(process.env.KLX_TEST_ROLE_LOGS ? { onOutput: (role: string, line: string) => console.log(`[${role}] ${line}`) } : {}),
    });
    hub = new ChannelClient(cluster.hubUrl, 'bridge');
    await waitFor('the Solana chain registration', async () => (await fetch(`${cluster.hubUrl}/v1/channels/bridge/bridge/chain/${CHAIN}`)).ok, 60_000);
    user = new SolanaWallet(sol.chain.rpcUrl, devnetSolanaKeypair('user'));
  });
  after(async () => {
    await cluster?.stop();
    await sol?.stop();
    await db?.drop();
  });

  it('mints bridged KLX for two withdrawals, released in id order, and keeps the supply equal to what the hub locks', async () => {
    const first = await actionOf((await withdraw('KLX', 1_000_000_000n, user.address)).txId);
    const second = await actionOf((await withdraw('KLX', 500_000_000n, user.address)).txId);
    assert.equal(BigInt(second.actionId), BigInt(first.actionId) + 1n);
    const [a1, a2] = [await settled(first.actionId), await settled(second.actionId)];
    assert.deepEqual([a1.status, a2.status], ['executed', 'executed']);
    const slotOf = async (sig: string) => (await user.connection.getTransaction(sig, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 }))?.slot ?? -1;
    assert.ok((await slotOf(a1.execution?.txHash ?? '')) < (await slotOf(a2.execution?.txHash ?? '')), 'release n landed before release n + 1');
    assert.equal(await user.tokenBalance(klxMint), 15_000_000n, '1.5 KLX at 7 decimals');
    assert.equal((await user.supply(klxMint)) * 100n, await custody('KLX'));
  });

  it('credits a burn of bridged KLX with a memo to the hub recipient, once', async () => {
    const before = await balance(bob, 'KLX');
    const tx = await user.burnDeposit({ mint: klxMint, decimals: 7, amount: 2_000_000n, memo: bob });
    const ev = await eventOf(tx);
    assert.equal(ev.outcome, 'credited');
    assert.equal((await balance(bob, 'KLX')) - before, 200_000_000n, '0.2 KLX, rescaled from 7 to 9 decimals');
    assert.equal((await user.supply(klxMint)) * 100n, await custody('KLX'));
  });

  it('takes wrapped SOL into custody and releases it to a new wallet, whose token account the fee payer creates', async () => {
    const before = await balance(alice, 'SOL');
    const ev = await eventOf(await user.deposit({ multisig: sol.chain.deployment.multisig, mint: NATIVE_MINT.toBase58(), decimals: 9, amount: 2_000_000_000n, memo: alice }));
    assert.equal(ev.outcome, 'credited');
    assert.equal((await balance(alice, 'SOL')) - before, 2_000_000_000n);

    const fresh = Keypair.generate().publicKey.toBase58();
    const done = await settled((await actionOf((await withdraw('SOL', 500_000_000n, fresh)).txId)).actionId);
    assert.equal(done.status, 'executed');
    assert.equal(await user.tokenBalance(NATIVE_MINT.toBase58(), fresh), 500_000_000n);
    assert.equal(await custody('SOL'), 1_500_000_000n);
  });

  it('makes a deposit without a memo claimable by its sender', async () => {
    const tx = await user.deposit({ multisig: sol.chain.deployment.multisig, mint: NATIVE_MINT.toBase58(), decimals: 9, amount: 100_000_000n });
    const ev = await eventOf(tx);
    assert.equal(ev.outcome, 'claimable');
    assert.equal((await record<ClaimableRecord>(`claimable/${CHAIN}/${ev.eventId}`))?.refundTo, user.address);
  });

  it('refuses a withdrawal to a token account (not a wallet) with a typed error and changes nothing', async () => {
    const tokenAccount = getAssociatedTokenAddressSync(new PublicKey(klxMint), new PublicKey(user.address)).toBase58();
    const before = await balance(alice, 'KLX');
    await assert.rejects(withdraw('KLX', 1_000_000_000n, tokenAccount), (e) => (e as ApiError).code === 'BAD_CHAIN_ADDRESS' && /off the ed25519 curve/.test((e as Error).message));
    assert.equal(await balance(alice, 'KLX'), before);
  });
});
