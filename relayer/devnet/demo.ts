/**
 * `npm run demo`: against a running devnet, a deposit and a withdrawal on each chain,
 * printing every status step as the hub records it. Ethereum: ERC20 KLX deposited by the
 * treasury migrates to native KLX for alice (the coordinator's two-phase commit); alice
 * withdraws KLX back (released from custody).
 * Polygon: alice withdraws KLX (bridged KLX minted there); the EVM user deposits part of
 * it back to bob (burnt there, credited on the hub). Solana: the same with bridged KLX,
 * then wrapped SOL in and out. Devnet keys only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, erc20Abi, http, maxUint256, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadArtifact } from '../../adapters/evm/artifacts.ts';
import { readEvmDeployment } from '../../adapters/evm/deployment.ts';
import { readSolanaDeployment } from '../../adapters/solana/deployment.ts';
import { NATIVE_MINT } from '@solana/spl-token';
import { CoordinatorClient, transferOutcome } from '../../coordinator/coordinator-client.ts';
import { signTx } from '../ledger/transaction.ts';
import { ChannelClient } from '../node/client.ts';
import { devnetAddress, devnetUser } from './devnet-config.ts';
import { ANVIL_KEY_0, DEVNET_EVM_USER_KEY } from './evm-keys.ts';
import { devnetSolanaKeypair } from './solana-keys.ts';
import { SolanaWallet } from './solana-wallet.ts';

const dir = process.env.KLX_DEVNET_DIR ?? join(process.cwd(), '.devnet');
interface ChainRef {
  name: string;
  rpcUrl: string;
  deploymentFile: string;
}
const cfg = JSON.parse(readFileSync(join(dir, 'devnet_config.json'), 'utf8')) as { hubUrl: string; evmChains?: ChainRef[]; solanaChains?: ChainRef[]; coordinator?: { url: string } };
const hub = new ChannelClient(cfg.hubUrl, 'bridge');
const bridgeAbi = loadArtifact('KlxBridge').abi;
const step = (chain: string, text: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${chain.padEnd(8)} ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function record<T>(path: string): Promise<T | null> {
  const r = await fetch(`${cfg.hubUrl}/v1/channels/bridge/bridge/${path}`);
  return r.status === 404 ? null : ((await r.json()) as T);
}

async function klx(address: string): Promise<string> {
  return (await hub.balances(address)).balances.KLX ?? '0';
}

function chainClients(name: string) {
  const c = cfg.evmChains?.find((x) => x.name === name);
  if (!c) throw new Error(`the devnet has no chain ${name}`);
  const d = readEvmDeployment(c.deploymentFile);
  const chain = { id: d.chainId, name, nativeCurrency: { name: 'ETH', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } };
  const transport = http(c.rpcUrl);
  const pub = createPublicClient({ chain, transport, cacheTime: 0, pollingInterval: 50 });
  const wallet = (key: Hex) => createWalletClient({ chain, transport, account: privateKeyToAccount(key) });
  return { d, pub, treasury: wallet(ANVIL_KEY_0), user: wallet(DEVNET_EVM_USER_KEY) };
}

/** Follows a deposit through the hub: pending (below depth / awaiting quorum) → its outcome. */
async function followDeposit(chain: string, txHash: string): Promise<void> {
  let last = '';
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
    const r = await record<{ events: { eventId: string; outcome: string; detail: string }[] }>(`events/${chain}?txHash=${txHash}`);
    const ev = r?.events[0];
    const now = ev ? `event ${ev.eventId}: ${ev.outcome} (${ev.detail})` : 'waiting for the confirmation depth and 3 of 5 listener attestations';
    if (now !== last) step(chain, now);
    last = now;
    if (ev?.outcome === 'migration') return followMigration(chain, ev.eventId);
    if (ev) return;
  }
  throw new Error(`deposit ${txHash} was not applied within 120 s`);
}

/** An ERC20 KLX deposit on the migration chain: the coordinator's two-phase commit, step by step. */
async function followMigration(chain: string, eventId: string): Promise<void> {
  let last = '';
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) {
    const m = await record<{ status: string; id: string | null; refundAction: string | null }>(`migration/${chain}/${eventId}`);
    const now = `migration ${eventId}: ${m?.status ?? 'unknown'}${m?.id ? ` (coordinator transfer ${m.id})` : ''}${m?.refundAction ? `, refund action ${m.refundAction}` : ''}`;
    if (now !== last) step(chain, now);
    last = now;
    if (m?.status === 'committed' || m?.status === 'aborted') return;
  }
  throw new Error(`migration ${chain}/${eventId} was not decided within 120 s`);
}

async function deposit(chain: string, from: ReturnType<typeof chainClients>['user'], c: ReturnType<typeof chainClients>, amount: bigint, to: string): Promise<void> {
  const token = c.d.klxToken as Address;
  const account = from.account;
  await c.pub.waitForTransactionReceipt({ hash: await from.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [c.d.bridge, maxUint256], account, chain: from.chain }) });
  const hash = await from.writeContract({ address: c.d.bridge, abi: bridgeAbi, functionName: 'deposit', args: [token, amount, to, account.address], account, chain: from.chain });
  const receipt = await c.pub.waitForTransactionReceipt({ hash });
  step(chain, `deposit ${amount} base units of KLX for ${to}: tx ${hash} in block ${receipt.blockNumber}`);
  await followDeposit(chain, hash);
}

async function withdraw(chain: string, amountHub: bigint, recipient: string, asset = 'KLX'): Promise<void> {
  const sender = devnetAddress('alice');
  const nonce = await hub.nextNonce(sender, 7);
  const tx = signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender, lane: 7, nonce, body: { chain, asset, amount: amountHub.toString(), recipient } }, devnetUser('alice'));
  const receipt = await hub.submit(tx);
  const actions = await record<{ records: { actionId: string; withdrawTx: string }[] }>(`action/${chain}`);
  const id = actions?.records.find((a) => a.withdrawTx === receipt.txId)?.actionId;
  if (!id) throw new Error(`no action for withdrawal ${receipt.txId}`);
  step(chain, `withdrawal of ${amountHub} ${asset} base units to ${recipient}: hub block ${receipt.height}, action ${id}`);
  let last = '';
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) {
    const a = await record<{ status: string; approvals: Record<string, unknown>; execution: { txHash: string; paid: boolean } | null }>(`action/${chain}/${id}`);
    if (!a) continue;
    const approvals = Object.keys(a.approvals).length;
    const now =
      a.status === 'created'
        ? `action ${id}: created, ${approvals} of 3 approvers signed (2 needed)`
        : a.status === 'signed'
          ? `action ${id}: co-signed by the processor; queued for the submitter`
          : `action ${id}: ${a.status} on chain in tx ${a.execution?.txHash}, settled on the hub`;
    if (now !== last) step(chain, now);
    last = now;
    if (a.status !== 'created' && a.status !== 'signed') return;
  }
  throw new Error(`action ${id} did not settle within 120 s`);
}

/** Ethereum: ERC20 KLX in and out. Polygon: bridged KLX minted, then burnt back to bob. */
async function evmDemo(): Promise<void> {
  const alice = devnetAddress('alice');
  const bob = devnetAddress('bob');
  const eth = chainClients('ethereum');
  const user = eth.user.account.address;
  await deposit('ethereum', eth.treasury, eth, 10n * 10n ** 18n, alice);
  step('hub', `alice now holds ${await klx(alice)}`);
  await withdraw('ethereum', 3n * 10n ** 9n, user);
  step('ethereum', `${user} holds ${await eth.pub.readContract({ address: eth.d.klxToken as Address, abi: erc20Abi, functionName: 'balanceOf', args: [user] })} ERC20 KLX base units (18 decimals)`);

  const pol = chainClients('polygon');
  await withdraw('polygon', 2n * 10n ** 9n, user);
  step('polygon', `${user} holds ${await pol.pub.readContract({ address: pol.d.klxToken as Address, abi: erc20Abi, functionName: 'balanceOf', args: [user] })} bridged KLX base units`);
  await deposit('polygon', pol.user, pol, 10n ** 18n, bob);
  step('hub', `bob ${bob} now holds ${await klx(bob)}`);
}

/**
 * Solana: alice withdraws KLX (bridged KLX minted by the multisig), the Solana user burns part
 * of it with a memo naming bob, deposits wrapped SOL for alice, and alice withdraws SOL back.
 */
async function solanaDemo(c: ChainRef): Promise<void> {
  const alice = devnetAddress('alice');
  const bob = devnetAddress('bob');
  const d = readSolanaDeployment(c.deploymentFile);
  const wallet = new SolanaWallet(c.rpcUrl, devnetSolanaKeypair('user'));
  const klxMint = d.klxMint ?? '';
  await withdraw(c.name, 2n * 10n ** 9n, wallet.address);
  step(c.name, `${wallet.address} holds ${await wallet.tokenBalance(klxMint)} bridged KLX base units (${d.klxDecimals} decimals; mint ${klxMint})`);
  const burn = await wallet.burnDeposit({ mint: klxMint, decimals: d.klxDecimals, amount: 5n * 10n ** (BigInt(d.klxDecimals) - 1n), memo: bob });
  step(c.name, `burnt 0.5 KLX with memo "${bob}": tx ${burn}`);
  await followDeposit(c.name, burn);
  step('hub', `bob ${bob} now holds ${await klx(bob)}`);
  const wsol = await wallet.deposit({ multisig: d.multisig, mint: NATIVE_MINT.toBase58(), decimals: 9, amount: 10n ** 9n, memo: alice });
  step(c.name, `wrapped 1 SOL and deposited it into custody with memo "${alice}": tx ${wsol}`);
  await followDeposit(c.name, wsol);
  step('hub', `alice now holds ${(await hub.balances(alice)).balances.SOL ?? '0'} SOL base units`);
  await withdraw(c.name, 4n * 10n ** 8n, wallet.address, 'SOL');
  step(c.name, `${wallet.address} holds ${await wallet.tokenBalance(NATIVE_MINT.toBase58())} wrapped SOL lamports`);
}

/** Between channels: alice (bridge) sends KLX to bob (main) through the coordinator; every state of both channels' records. */
async function channelTransfer(coordinatorUrl: string, amount: bigint): Promise<void> {
  const alice = devnetAddress('alice');
  const bob = devnetAddress('bob');
  const req = signTx({ network: 'devnet', channel: 'bridge', type: 'xfer-request', sender: alice, lane: 0, nonce: BigInt(Date.now()), body: { to: 'main', recipient: bob, asset: 'KLX', amount: amount.toString() } }, devnetUser('alice'));
  const coordinator = new CoordinatorClient(coordinatorUrl);
  const id = await coordinator.submit(req);
  step('channels', `alice → bob (bridge → main) ${amount} KLX base units: coordinator transfer ${id}`);
  let last = '';
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    const s = await coordinator.status(id);
    const [source, dest] = ['bridge', 'main'].map((c) => s.participants[c]?.status ?? 'none') as [string, string];
    const now = `transfer ${id}: bridge ${source}, main ${dest}`;
    if (now !== last) step('channels', now);
    last = now;
    if (transferOutcome(source, dest)) {
      step('channels', `bob now holds ${(await new ChannelClient(cfg.hubUrl, 'main').balances(bob)).balances.KLX ?? '0'} KLX on main`);
      return;
    }
  }
  throw new Error(`transfer ${id} was not decided within 60 s`);
}

async function main(): Promise<void> {
  const alice = devnetAddress('alice');
  step('hub', `alice ${alice} holds ${await klx(alice)} KLX base units (9 decimals)`);
  if (cfg.evmChains?.length) await evmDemo();
  for (const c of cfg.solanaChains ?? []) await solanaDemo(c);
  if (cfg.coordinator) await channelTransfer(cfg.coordinator.url, 5n * 10n ** 9n);
  console.log(`demo complete: a deposit and a withdrawal on each chain${cfg.coordinator ? ', and a transfer between channels' : ''}`);
}

main().catch((e: unknown) => {
  console.error(`demo: ${(e as Error).message}`);
  process.exit(1);
});
