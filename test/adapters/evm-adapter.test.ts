/**
 * EvmAdapter against real anvil nodes: the shared conformance suite on two configurations
 * (Ethereum: chain id 1, ERC20 KLX locked, depth in blocks; Polygon: chain id 137,
 * bridged KLX, the native coin locked, the node's finalized tag), then what only EVM has:
 * the contract's own digest, payouts to a reverting receiver, one event-id sequence.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { startRpcProxy } from '../helpers/rpc-proxy.ts';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  http,
  keccak256,
  parseTransaction,
  toHex,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { ChainRpcError, type ChainAdapter, type ChainAssetSpec, type SignatureShare, type SubmissionRecord, type SubmissionState, type UnsignedAction } from '../../adapters/chain-adapter.ts';
import { deployEvmBridge, type EvmValidatorSet } from '../../adapters/evm/deploy.ts';
import type { EvmDeployment } from '../../adapters/evm/deployment.ts';
import { EvmAdapter, type EvmConfirmations } from '../../adapters/evm/evm-adapter.ts';
import { makeEvmClient, submissionGasFloor, submissionGasLimit } from '../../adapters/evm/evm-rpc.ts';
import { klxBridgeAbi } from '../../adapters/evm/evm-codec.ts';
import { ANVIL_ADDRESS_0, ANVIL_KEY_0, startAnvil, type Anvil } from '../helpers/anvil.ts';
import { freePort } from '../helpers/processes.ts';
import { PROJECT_ROOT, ensureContractsBuilt } from '../contracts/evm-chain.ts';
import { chainAdapterConformance, type ConformanceHarness } from './conformance.ts';

/** anvil's second default account (public knowledge): the fee payer of these tests. */
const PAYER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
/** anvil's third default account, unlocked in the node: it sends the transaction that makes a reorg differ. */
const REORG_SENDER: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

const testKey = (label: string): Hex => keccak256(toHex(`klx-evm-adapter-test:${label}`));
const KEYS = {
  processor: testKey('processor'),
  approvers: [0, 1, 2].map((i) => testKey(`approver-${i}`)),
  listeners: [0, 1, 2].map((i) => testKey(`listener-${i}`)),
  outsider: testKey('outsider'),
};
const VALIDATORS: EvmValidatorSet = {
  processor: privateKeyToAccount(KEYS.processor).address,
  approvers: KEYS.approvers.map((k) => privateKeyToAccount(k).address),
  approverQuorum: 2,
  listeners: KEYS.listeners.map((k) => privateKeyToAccount(k).address),
  listenerQuorum: 2,
};

interface EvmConfig {
  chain: 'ethereum' | 'polygon';
  chainId: number;
  klx: 'erc20' | 'bridged';
  confirmations: EvmConfirmations;
  slotsInAnEpoch?: number;
  logChunkBlocks?: number;
}

const CONFIGS: EvmConfig[] = [
  { chain: 'ethereum', chainId: 1, klx: 'erc20', confirmations: { kind: 'blocks', count: 3 } },
  // finalized = latest − 2 with one slot per epoch; tiny log chunks exercise the chunked scan.
  { chain: 'polygon', chainId: 137, klx: 'bridged', confirmations: { kind: 'finalized' }, slotsInAnEpoch: 1, logChunkBlocks: 5 },
];

interface EvmHarness extends ConformanceHarness {
  anvil: Anvil;
  deployment: EvmDeployment;
  rpc(method: string, params: unknown[]): Promise<unknown>;
  adapter(): EvmAdapter;
}

async function startEvmHarness(c: EvmConfig): Promise<EvmHarness> {
  const anvil = await startAnvil(c.chainId, c.slotsInAnEpoch === undefined ? {} : { slotsInAnEpoch: c.slotsInAnEpoch });
  try {
    const deployment = await deployEvmBridge({ rpcUrl: anvil.url, deployerKey: ANVIL_KEY_0, validators: VALIDATORS, rotationDelaySeconds: 600n, klx: c.klx, treasury: ANVIL_ADDRESS_0 });
    const chain = defineChain({ id: c.chainId, name: c.chain, nativeCurrency: { name: 'native', symbol: 'NATIVE', decimals: 18 }, rpcUrls: { default: { http: [anvil.url] } } });
    const publicClient = createPublicClient({ chain, transport: http(anvil.url, { retryCount: 0 }), cacheTime: 0 });
    const wallet = createWalletClient({ account: privateKeyToAccount(ANVIL_KEY_0), chain, transport: http(anvil.url, { retryCount: 0 }) });
    const confirmed = async (hash: Hex) => {
      const r = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 10_000 });
      assert.equal(r.status, 'success', `test transaction ${hash} failed`);
      return hash;
    };
    const bridge = deployment.bridge;
    const abi = klxBridgeAbi();
    const locked: ChainAssetSpec =
      c.klx === 'erc20'
        ? { chainAsset: getAddress(deployment.klxToken as Address), decimals: 18, hubDecimals: 9, mode: 'lock' }
        : { chainAsset: 'native', decimals: 18, hubDecimals: 8, mode: 'lock' };
    let fresh = 0;
    const rpc = async (method: string, params: unknown[]) => {
      const r = await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
      const body = (await r.json()) as { result?: unknown; error?: { message: string } };
      if (body.error) throw new Error(`${method}: ${body.error.message}`);
      return body.result;
    };
    const adapter = () =>
      new EvmAdapter({
        chain: c.chain,
        rpcUrl: anvil.url,
        deployment,
        confirmations: c.confirmations,
        pollingIntervalMs: 20,
        ...(c.logChunkBlocks === undefined ? {} : { logChunkBlocks: c.logChunkBlocks }),
      });
    const sample = getAddress('0x52908400098527886e0f7030069857d2e4169ee7');
    return {
      anvil,
      deployment,
      rpc,
      adapter,
      assets: { locked },
      validAddresses: [sample, sample.toLowerCase(), `0x${sample.slice(2).toUpperCase()}`, ANVIL_ADDRESS_0],
      invalidAddresses: [
        '',
        '0x',
        '0x1234',
        sample.slice(2), // no 0x
        `${sample}00`, // 21 bytes
        `0x${'g'.repeat(40)}`,
        ` ${sample}`,
        `0X${sample.slice(2)}`,
        sample.replace('E', 'e'), // one letter's case flipped: the checksum fails
        zeroAddress,
      ],
      recipient: () => privateKeyToAccount(testKey(`${c.chain}-recipient-${++fresh}`)).address,
      async deposit({ asset, amount, hubRecipient, refundTo }) {
        const refund = (refundTo ?? ANVIL_ADDRESS_0) as Address;
        if (asset === 'native') {
          return { txHash: await confirmed(await wallet.writeContract({ address: bridge, abi, functionName: 'depositNative', args: [hubRecipient, refund], value: amount })) };
        }
        await confirmed(await wallet.writeContract({ address: asset as Address, abi: erc20Abi, functionName: 'approve', args: [bridge, amount] }));
        return { txHash: await confirmed(await wallet.writeContract({ address: bridge, abi, functionName: 'deposit', args: [asset as Address, amount, hubRecipient, refund] })) };
      },
      async advance(blocks) {
        await rpc('anvil_mine', [toHex(blocks)]);
      },
      async reorgLast(blocks) {
        // A transaction in the first replaced block makes every replaced block differ.
        await rpc('anvil_reorg', [blocks, [[{ from: REORG_SENDER, to: privateKeyToAccount(testKey(`reorg-${++fresh}`)).address, value: '0x1' }, 0]]]);
      },
      signers: { processor: KEYS.processor, approvers: KEYS.approvers, outsider: KEYS.outsider },
      payer: PAYER_KEY,
      payerAddress: privateKeyToAccount(PAYER_KEY).address,
      async fundCustody(asset, amount) {
        if (asset === 'native') await confirmed(await wallet.sendTransaction({ to: bridge, value: amount }));
        else await confirmed(await wallet.writeContract({ address: asset as Address, abi: erc20Abi, functionName: 'transfer', args: [bridge, amount] }));
      },
      async balanceOf(owner, asset) {
        if (asset === 'native') return publicClient.getBalance({ address: owner as Address });
        return publicClient.readContract({ address: asset as Address, abi: erc20Abi, functionName: 'balanceOf', args: [owner as Address] });
      },
      close: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

function artifactOf(file: string, contract: string): { abi: Abi; bytecode: Hex } {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, 'artifacts', 'contracts', 'evm', file, `${contract}.json`), 'utf8')) as { abi: Abi; bytecode: Hex };
}

/** Waits for a broadcast transaction's verdict (anvil mines at once, but its receipt comes a moment later). */
async function settled(a: ChainAdapter, record: SubmissionRecord): Promise<SubmissionState> {
  for (let i = 0; i < 200; i++) {
    const state = await a.submissionState(record);
    if (state === 'included' || state === 'reverted') return state;
    await new Promise((r) => setTimeout(r, 20));
  }
  return assert.fail(`${record.txHash} never settled`);
}

/** Processor + quorum shares over an action, straight from the test keys. */
function signAll(a: ChainAdapter, unsigned: UnsignedAction): SignatureShare[] {
  return a.signingRequests(unsigned, []).map((r, i) => {
    const s = a.signer(r.role === 'processor' ? KEYS.processor : (KEYS.approvers[i - 1] as string));
    return { signer: s.address, role: r.role, round: r.round, signature: s.sign(r) };
  });
}

for (const config of CONFIGS) {
  describe(`EvmAdapter on ${config.chain} (chain id ${config.chainId})`, () => {
    let started: Promise<EvmHarness> | undefined;
    const harness = () => (started ??= ensureContractsBuilt().then(() => startEvmHarness(config)));
    after(async () => {
      if (started) await (await started).close();
    });

    // The suite's close is a no-op: the EVM-specific cases below reuse the same chain.
    chainAdapterConformance(`EvmAdapter on ${config.chain}`, async () => ({ ...(await harness()), close: async () => {} }));

    describe('EVM specifics', () => {
      let h: EvmHarness;
      let a: EvmAdapter;
      before(async () => {
        h = await harness();
        a = h.adapter();
      });

      it('payloadHash is the contract’s actionDigest for a native release, a token release, a mint and a no-op', async () => {
        const id = await a.nextExecutableId();
        const recipient = h.recipient();
        const token = h.deployment.klxToken as Address;
        const cases = [
          a.buildAction({ actionId: id, kind: 'release', asset: 'native', recipient, amount: 10n ** 18n }),
          a.buildAction({ actionId: id + 7n, kind: 'release', asset: token.toLowerCase(), recipient: recipient.toLowerCase(), amount: 5n }),
          a.buildAction({ actionId: id + 1n, kind: 'mint', asset: token, recipient, amount: (1n << 256n) - 1n }),
          a.buildAction({ actionId: id, kind: 'noop', asset: 'ignored', recipient: 'ignored', amount: 123n }),
        ];
        const kinds = cases.map((u) => (u.payload as { kind: number }).kind);
        assert.deepEqual(kinds, [1, 1, 2, 0]);
        assert.deepEqual(cases[3]?.payload, { actionId: id.toString(), kind: 0, token: zeroAddress, recipient: zeroAddress, amount: '0' });
        assert.equal((cases[0]?.payload as { token: string }).token, zeroAddress, 'native is address(0)');
        for (const u of cases) {
          const p = u.payload as { actionId: string; kind: number; token: Address; recipient: Address; amount: string };
          const onChain = await createPublicClient({ transport: http(h.anvil.url) }).readContract({
            address: h.deployment.bridge,
            abi: klxBridgeAbi(),
            functionName: 'actionDigest',
            args: [BigInt(p.actionId), { kind: p.kind, token: p.token, recipient: p.recipient, amount: BigInt(p.amount) }],
          });
          assert.equal(u.payloadHash, onChain.toLowerCase());
          assert.match(u.payloadHash, /^0x[0-9a-f]{64}$/);
        }
        assert.throws(() => a.buildAction({ actionId: id, kind: 'mint', asset: 'native', recipient, amount: 1n }), (e) => e instanceof KlxError && e.code === 'BAD_ACTION');
        assert.throws(() => a.buildAction({ actionId: id, kind: 'release', asset: 'native', recipient: h.deployment.bridge, amount: 1n }), (e) => e instanceof KlxError && e.code === 'BAD_CHAIN_ADDRESS');
        assert.throws(() => a.buildAction({ actionId: id, kind: 'release', asset: 'native', recipient, amount: 1n << 256n }), (e) => e instanceof KlxError && e.code === 'UNREPRESENTABLE_AMOUNT');
        assert.throws(() => a.buildAction({ actionId: 0n, kind: 'noop', asset: '', recipient: '', amount: 0n }), (e) => e instanceof KlxError && e.code === 'BAD_ACTION');
      });

      it('a payout to a reverting receiver executes with paid = false: the id is consumed and the amount claimable', async () => {
        const receiverArtifact = artifactOf('mocks/TestTokens.sol', 'RevertingReceiver');
        const chain = defineChain({ id: config.chainId, name: config.chain, nativeCurrency: { name: 'native', symbol: 'NATIVE', decimals: 18 }, rpcUrls: { default: { http: [h.anvil.url] } } });
        const client = createPublicClient({ chain, transport: http(h.anvil.url), cacheTime: 0 });
        const wallet = createWalletClient({ account: privateKeyToAccount(ANVIL_KEY_0), chain, transport: http(h.anvil.url) });
        const deployed = await client.waitForTransactionReceipt({
          hash: await wallet.deployContract({ abi: receiverArtifact.abi, bytecode: receiverArtifact.bytecode }),
          pollingInterval: 20,
          timeout: 10_000,
        });
        const receiver = getAddress(deployed.contractAddress as Address);
        const amount = 3n * 10n ** 17n;
        await h.fundCustody('native', amount);
        const id = await a.nextExecutableId();
        const unsigned = a.buildAction({ actionId: id, kind: 'release', asset: 'native', recipient: receiver, amount });
        const signed = a.assemble(unsigned, signAll(a, unsigned));
        const record = await a.prepareSubmission([signed], h.payer, await a.payerNonce(h.payerAddress));
        await a.broadcast(record);
        assert.equal(await settled(a, record), 'included');
        assert.equal(await a.nextExecutableId(), id + 1n, 'the id is consumed');
        const execution = await a.findExecution(id);
        assert.equal(execution?.paid, false);
        assert.equal(execution?.payloadHash, unsigned.payloadHash);
        assert.equal(await client.getBalance({ address: receiver }), 0n);
        const claimable = await client.readContract({ address: h.deployment.bridge, abi: klxBridgeAbi(), functionName: 'claimable', args: [zeroAddress, receiver] });
        assert.equal(claimable, amount);
        await h.advance(3); // deep enough for both configurations' finality
        const { final } = await a.head();
        assert.ok(execution && final.height >= execution.block.height);
        const seen = (await a.scan(null, final)).find((e) => e.kind === 'execution' && e.actionId === id);
        assert.equal(seen?.kind === 'execution' && seen.paid, false, 'listeners see paid = false');
      });

      it('deposits and executions share one event-id sequence: 1, 2, 3, ... in chain order', async () => {
        await h.advance(3);
        const events = await a.scan(null, (await a.head()).final);
        assert.ok(events.some((e) => e.kind === 'deposit') && events.some((e) => e.kind === 'execution'));
        assert.deepEqual(
          events.map((e) => e.eventId),
          events.map((_, i) => BigInt(i + 1)),
        );
      });

      it('free custody balances are read at the given block, by asset id, native and token alike: held minus claimable on the chain', async () => {
        const head = await a.head();
        const token = h.deployment.klxToken as Address;
        const balances = await a.custodyBalances(head.latest, ['native', token]);
        const client = createPublicClient({ transport: http(h.anvil.url), cacheTime: 0 });
        const blockNumber = head.latest.height;
        const owed = (t: Address) => client.readContract({ address: h.deployment.bridge, abi: klxBridgeAbi(), functionName: 'totalClaimable', args: [t], blockNumber });
        const nativeOwed = await owed(zeroAddress);
        assert.ok(nativeOwed > 0n, 'the deferred payout above is still claimable on the chain');
        assert.equal(balances.get('native'), (await client.getBalance({ address: h.deployment.bridge, blockNumber })) - nativeOwed);
        assert.equal(balances.get(token), (await client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [h.deployment.bridge], blockNumber })) - (await owed(token)));
        await assert.rejects(a.custodyBalances(head.latest, ['ETH']), (e) => e instanceof KlxError && e.code === 'BAD_CHAIN_ADDRESS');
        await assert.rejects(a.custodyBalances({ height: head.latest.height, hash: `0x${'ab'.repeat(32)}` }, ['native']), (e) => e instanceof ChainRpcError && e.retriable);
      });

      it('custody reads name the block by its hash (EIP-1898), so no other block answers for it, and check it once', async () => {
        // A JSON-RPC proxy in front of anvil that records what the adapter asks.
        const calls: { method: string; params: unknown[] }[] = [];
        const proxy = await startRpcProxy({ upstream: h.anvil.url, answer: (m) => void calls.push(m) });
        try {
          const watched = new EvmAdapter({ chain: config.chain, rpcUrl: proxy.url, deployment: h.deployment, confirmations: config.confirmations });
          const at = (await watched.head()).latest;
          const token = h.deployment.klxToken as Address;
          calls.length = 0;
          const balances = await watched.custodyBalances(at, ['native', token]);
          assert.deepEqual(balances, await a.custodyBalances(at, ['native', token]));
          const reads = calls.filter((c) => c.method === 'eth_getBalance' || c.method === 'eth_call');
          assert.equal(reads.length, 4, 'held and claimable, for each asset');
          for (const r of reads) assert.deepEqual(r.params[r.params.length - 1], { blockHash: at.hash }, `${r.method} names the block by its hash`);
          assert.deepEqual(calls.filter((c) => c.method === 'eth_getBlockByNumber').map((c) => c.params[0]), [`0x${at.height.toString(16)}`], 'one check that the block is the chain\'s');
        } finally {
          await proxy.close();
        }
      });

      it('a reorg below the scan start halts the scan for good; a vanished block is a reorg once the chain is back past it', async () => {
        await h.advance(4);
        const mid = (await a.head()).latest;
        await h.advance(2);
        assert.ok(h.reorgLast !== undefined, 'the EVM harness reorganises');
        await h.reorgLast(4);
        const end = (await a.head()).latest;
        await assert.rejects(a.scan(mid, end), (e) => e instanceof ChainRpcError && !e.retriable && /reorganised/.test(e.message));
        await assert.rejects(a.scan(end, mid), (e) => e instanceof KlxError && e.code === 'BAD_SCAN_RANGE');
        const last = (await a.head()).latest;
        await h.rpc('anvil_rollback', [1]);
        assert.deepEqual(await a.checkReorg([mid, last]), mid);
        // A block that no longer exists gives no answer (a node behind says the same) until the chain grows back past it.
        await assert.rejects(a.checkReorg([last]), (e) => e instanceof ChainRpcError && e.retriable);
        await h.advance(1);
        assert.deepEqual(await a.checkReorg([last]), last, 'once it has, the other block there is a reorganisation');
      });

      it('the start-up probe refuses, for good, a node without EIP-1898 block-hash reads, and retries an unreachable one', async () => {
        // A proxy answering as nodes without EIP-1898 do: an object where a block number is expected is an invalid argument.
        const proxy = await startRpcProxy({
          upstream: h.anvil.url,
          answer: (m) => (m.method === 'eth_getBalance' && typeof m.params[1] === 'object' ? { error: { code: -32602, message: 'invalid argument 1: hex string without 0x prefix' } } : undefined),
        });
        try {
          const old = new EvmAdapter({ chain: config.chain, rpcUrl: proxy.url, deployment: h.deployment, confirmations: config.confirmations });
          await assert.rejects(old.probe(), (e) => e instanceof ChainRpcError && !e.retriable && /EIP-1898/.test(e.message));
        } finally {
          await proxy.close();
        }
        // A node that has not got the block yet ("header not found") is no refusal: the probe is retried.
        const behind = await startRpcProxy({
          upstream: h.anvil.url,
          answer: (m) => (m.method === 'eth_getBalance' && typeof m.params[1] === 'object' ? { error: { code: -32000, message: 'header not found' } } : undefined),
        });
        try {
          const lagging = new EvmAdapter({ chain: config.chain, rpcUrl: behind.url, deployment: h.deployment, confirmations: config.confirmations });
          await assert.rejects(lagging.probe(), (e) => e instanceof ChainRpcError && e.retriable);
        } finally {
          await behind.close();
        }
        const port = await new Promise<number>((r) => {
          const s = createServer().listen(0, '127.0.0.1', () => {
            const p = (s.address() as { port: number }).port;
            s.close(() => r(p));
          });
        });
        const down = new EvmAdapter({ chain: config.chain, rpcUrl: `http://127.0.0.1:${port}`, deployment: h.deployment, confirmations: config.confirmations });
        await assert.rejects(down.probe(), (e) => e instanceof ChainRpcError && e.retriable);
      });

      /**
       * A proxy in front of anvil that records every answer and, while `stale` says so for a
       * request, serves the recorded (old) answer instead: a node applying a reorganisation
       * block by block, or a load balancer mixing an old node with a new one.
       */
      const staleProxy = async (stale: (m: { method: string; params: unknown[] }) => boolean) => {
        const recorded = new Map<string, unknown>();
        const keyOf = (m: { method: string; params: unknown[] }) => `${m.method} ${JSON.stringify(m.params)}`;
        const proxy = await startRpcProxy({
          upstream: h.anvil.url,
          answer: (m) => (stale(m) && recorded.has(keyOf(m)) ? { result: recorded.get(keyOf(m)) } : undefined),
          seen: (m, result) => void recorded.set(keyOf(m), result),
        });
        const adapter = new EvmAdapter({ chain: config.chain, rpcUrl: proxy.url, deployment: h.deployment, confirmations: config.confirmations });
        return { proxy, adapter };
      };
      const blockParam = (m: { method: string; params: unknown[] }) => (typeof m.params[0] === 'string' && m.params[0].startsWith('0x') ? BigInt(m.params[0]) : null);

      it('a node without the block asked for gives no answer (retriable), never "no such block"', async () => {
        const at = (await a.head()).latest;
        await h.advance(2);
        const proxy = await startRpcProxy({ upstream: h.anvil.url, answer: (m) => (m.method === 'eth_getBlockByNumber' && blockParam(m) === at.height ? { result: null } : undefined) });
        try {
          const lagging = new EvmAdapter({ chain: config.chain, rpcUrl: proxy.url, deployment: h.deployment, confirmations: config.confirmations });
          await assert.rejects(lagging.blockAt(at.height), (e) => e instanceof ChainRpcError && e.retriable && /no block there/.test(e.message));
          // So a lagging node makes no reorganisation (which would halt the listener), and no empty height (halt-clearing steps over those).
          await assert.rejects(lagging.checkReorg([at]), (e) => e instanceof ChainRpcError && e.retriable);
          await assert.rejects(lagging.blockAt(at.height + 1000n), (e) => e instanceof ChainRpcError && e.retriable, 'above the chain: no answer either');
        } finally {
          await proxy.close();
        }
      });

      it('a node showing two histories at once (new blocks above old ones) fails the scan retriably, not with old events under a new end', async () => {
        let staleTo = -1n; // the old deposit block (and the old logs) served up to this height
        const { proxy, adapter: watched } = await staleProxy((m) => staleTo >= 0n && (m.method === 'eth_getLogs' || (m.method === 'eth_getBlockByNumber' && (blockParam(m) ?? staleTo + 1n) <= staleTo)));
        try {
          const start = (await a.head()).latest;
          await h.deposit({ asset: 'native', amount: 1_000n, hubRecipient: 'a hub recipient' });
          await h.advance(3);
          const oldEnd = (await a.head()).latest;
          const seen = await watched.scan(start, oldEnd);
          assert.equal(seen.length, 1, 'the deposit, read through the proxy (which records the answers)');
          const deposit = seen[0]?.block.height ?? 0n;
          assert.ok(h.reorgLast !== undefined, 'the EVM harness reorganises');
          await h.reorgLast(Number(oldEnd.height - deposit) + 1); // the deposit's block and every one above it
          const newEnd = (await a.head()).latest;
          assert.equal(newEnd.height, oldEnd.height);
          assert.notEqual(newEnd.hash, oldEnd.hash);
          staleTo = deposit;
          await assert.rejects(watched.scan(start, newEnd), (e) => e instanceof ChainRpcError && e.retriable && /two histories/.test(e.message));
          staleTo = -1n; // the node has caught up: one history, without the old deposit
          assert.deepEqual(await watched.scan(start, newEnd), []);
        } finally {
          await proxy.close();
        }
      });

      it('old logs under new blocks cannot hide a deposit of the new history: the scan fails retriably', async () => {
        let staleLogs = false;
        const { proxy, adapter: watched } = await staleProxy((m) => staleLogs && m.method === 'eth_getLogs' && JSON.stringify(m.params[0] ?? null).includes('fromBlock'));
        try {
          const start = (await a.head()).latest;
          await h.advance(3);
          const oldEnd = (await a.head()).latest;
          assert.deepEqual(await watched.scan(start, oldEnd), [], 'no bridge event in the old history (its logs are recorded)');
          // The new history replaces the last two blocks, with a deposit in the first of them.
          const data = encodeFunctionData({ abi: klxBridgeAbi(), functionName: 'depositNative', args: ['a hub recipient', ANVIL_ADDRESS_0 as Address] });
          await h.rpc('anvil_reorg', [2, [[{ from: REORG_SENDER, to: h.deployment.bridge, value: '0x3e8', data }, 0]]]);
          const newEnd = (await a.head()).latest;
          assert.equal(newEnd.height, oldEnd.height);
          staleLogs = true;
          await assert.rejects(watched.scan(start, newEnd), (e) => e instanceof ChainRpcError && e.retriable && /another history/.test(e.message));
          staleLogs = false;
          const events = await watched.scan(start, newEnd);
          assert.equal(events.length, 1, 'the new history\'s deposit, once the logs are of the same history');
          assert.equal(events[0]?.kind, 'deposit');
        } finally {
          await proxy.close();
        }
      });

      it('gas limit: the floor when one run at five sixths of it suffices, else the padded estimate; the floor for a revert', async () => {
        const client = makeEvmClient(config.chain, config.chainId, h.anvil.url, 20);
        const token = h.deployment.klxToken as Address;
        const approve = { from: ANVIL_ADDRESS_0 as Address, to: token, data: encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [h.recipient() as Address, 1n] }) };
        assert.equal(await submissionGasLimit(client, config.chain, approve, 1_000_000n), 1_000_000n);
        const estimate = await client.estimateGas({ account: approve.from, to: approve.to, data: approve.data });
        // Five sixths of the estimate cannot run it: out of gas, so the padded estimate decides.
        assert.equal(await submissionGasLimit(client, config.chain, approve, estimate), (estimate * 6n) / 5n);
        const steal = { ...approve, data: encodeFunctionData({ abi: erc20Abi, functionName: 'transferFrom', args: [h.recipient() as Address, ANVIL_ADDRESS_0 as Address, 1n] }) };
        assert.equal(await submissionGasLimit(client, config.chain, steal, 100_000n), 100_000n, 'a revert now may not be one at inclusion: the floor');
      });

      it('refuses a tampered signed action before sending anything, and pads gas above the payout bound', async () => {
        const id = await a.nextExecutableId();
        const unsigned = a.buildAction({ actionId: id, kind: 'release', asset: h.assets.locked.chainAsset, recipient: h.recipient(), amount: 1n });
        const signed = a.assemble(unsigned, signAll(a, unsigned));
        const payload = signed.payload as { approverSignatures: string[]; processorSignature: string };
        const outsider = a.signer(KEYS.outsider);
        const strange = toHex(outsider.sign({ role: 'approver', bytes: Uint8Array.from(Buffer.from(unsigned.payloadHash.slice(2), 'hex')), round: 0 }));
        const nonce = await a.payerNonce(h.payerAddress);
        const refusedWith = (code: string) => (e: unknown) => e instanceof KlxError && e.code === code && !e.retriable;
        await assert.rejects(a.prepareSubmission([{ ...signed, payload: { ...payload, approverSignatures: [strange, ...payload.approverSignatures.slice(1)] } }], h.payer, nonce), refusedWith('BAD_SIGNATURES'));
        await assert.rejects(a.prepareSubmission([{ ...signed, payload: { ...payload, approverSignatures: [payload.approverSignatures[0], payload.approverSignatures[0]] } }], h.payer, nonce), refusedWith('BAD_SIGNATURES'));
        await assert.rejects(a.prepareSubmission([{ ...signed, payloadHash: `0x${'00'.repeat(32)}` }], h.payer, nonce), refusedWith('BAD_ACTION'));
        await assert.rejects(a.prepareSubmission([signed], h.payer, null), refusedWith('BAD_SUBMISSION'));

        const record = await a.prepareSubmission([signed], h.payer, nonce);
        const parsed = parseTransaction(record.raw as Hex);
        assert.ok((parsed.gas ?? 0n) >= submissionGasFloor(1, VALIDATORS.approverQuorum));
        assert.equal(parsed.nonce, Number(nonce));
        assert.equal(parsed.chainId, config.chainId);
      });

      it('keeps secrets and RPC URLs out of errors; refuses an RPC of another chain', async () => {
        const secretish = `0x${'f'.repeat(64)}`; // above the curve order: not a key
        for (const bad of [secretish, '0x1234', `0x${'0'.repeat(64)}`]) {
          assert.throws(
            () => a.signer(bad),
            (e) => e instanceof KlxError && e.code === 'BAD_SIGNER_KEY' && !e.message.includes(bad.slice(2, 20)),
          );
        }
        const noop = a.buildAction({ actionId: await a.nextExecutableId(), kind: 'noop', asset: '', recipient: '', amount: 0n });
        const signed = a.assemble(noop, signAll(a, noop));
        await assert.rejects(a.prepareSubmission([signed], secretish, 0n), (e) => e instanceof KlxError && e.code === 'BAD_SIGNER_KEY' && !e.message.includes('ffffffff'));

        const port = await freePort(); // nothing listens there
        const down = new EvmAdapter({ chain: config.chain, rpcUrl: `http://127.0.0.1:${port}/v3/super-secret-api-key`, deployment: h.deployment, confirmations: config.confirmations });
        await assert.rejects(down.head(), (e) => e instanceof ChainRpcError && e.retriable && !e.message.includes('super-secret-api-key'));

        const elsewhere = new EvmAdapter({ chain: config.chain, rpcUrl: h.anvil.url, deployment: { ...h.deployment, chainId: config.chainId + 1 }, confirmations: config.confirmations });
        await assert.rejects(elsewhere.head(), (e) => e instanceof ChainRpcError && !e.retriable && /chain id/.test(e.message));
      });

      it('submission states: unknown before broadcast, pending in the pool (re-broadcast is harmless), then included', async () => {
        const id = await a.nextExecutableId();
        const noop = a.buildAction({ actionId: id, kind: 'noop', asset: '', recipient: '', amount: 0n });
        const record = await a.prepareSubmission([a.assemble(noop, signAll(a, noop))], h.payer, await a.payerNonce(h.payerAddress));
        assert.equal(await a.submissionState(record), 'unknown');
        await h.rpc('evm_setAutomine', [false]);
        try {
          await a.broadcast(record);
          assert.equal(await a.submissionState(record), 'pending');
          await a.broadcast(record); // the node already has it
          assert.equal(await a.nextExecutableId(), id);
          await h.advance(1);
        } finally {
          await h.rpc('evm_setAutomine', [true]);
        }
        assert.equal(await settled(a, record), 'included');
        assert.equal(await a.nextExecutableId(), id + 1n);
      });

      it('a broadcast the node refuses (no funds for gas) is final and changes nothing; a record whose hash is not its bytes is refused', async () => {
        const id = await a.nextExecutableId();
        const noop = a.buildAction({ actionId: id, kind: 'noop', asset: '', recipient: '', amount: 0n });
        const record = await a.prepareSubmission([a.assemble(noop, signAll(a, noop))], testKey('broke-payer'), 0n);
        await assert.rejects(a.broadcast(record), (e) => e instanceof ChainRpcError && !e.retriable);
        assert.equal(await a.submissionState(record), 'unknown');
        await assert.rejects(a.broadcast({ ...record, txHash: `0x${'11'.repeat(32)}` }), (e) => e instanceof KlxError && e.code === 'BAD_SUBMISSION');
        assert.equal(await a.nextExecutableId(), id);
      });

      it('unknown transactions and ids: no events, no execution; malformed hashes are refused', async () => {
        assert.deepEqual(await a.eventsOfTx(`0x${'12'.repeat(32)}`), []);
        await assert.rejects(a.eventsOfTx('0x1234'), (e) => e instanceof KlxError && e.code === 'BAD_TX_HASH');
        assert.equal(await a.findExecution(0n), null);
        assert.equal(await a.findExecution(1n << 70n), null);
        assert.equal(await a.findExecution(await a.nextExecutableId()), null);
      });
    });
  });
}
