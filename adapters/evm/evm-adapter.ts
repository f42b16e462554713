/**
 * The ChainAdapter of EVM chains (Ethereum, Polygon: two configurations of one adapter)
 * over the KlxBridge contract, through viem. Chain asset ids: "native" for the native
 * coin (address(0) in the contract), checksummed token addresses otherwise. Pure parts
 * live in evm-codec.ts (addresses, amounts, EIP-712, log decoding) and evm-signing.ts
 * (the signer set); RPC failures, gas and fees in evm-rpc.ts.
 */
import { BaseError, BlockNotFoundError, InvalidParamsRpcError, TransactionNotFoundError, TransactionReceiptNotFoundError, bytesToHex, decodeFunctionResult, encodeFunctionData, erc20Abi, getAbiItem, hexToBigInt, keccak256, zeroAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ConfigError, KlxError } from '../../relayer/ledger/errors.ts';
import {
  BadChainAddress, ChainRpcError, UnrepresentableAmount,
  type BlockRef, type ChainAdapter, type ChainAssetSpec, type ChainEvent, type ChainSigner, type ExecutionObservation, type HubAction,
  type SignatureShare, type SignedAction, type SigningRequest, type SubmissionRecord, type SubmissionState, type UnsignedAction,
} from '../chain-adapter.ts';
import type { EvmDeployment } from './deployment.ts';
import {
  ActionKind, MAX_UINT256, actionDigest, actionToPayload, bridgeEvents, byChainPosition, canonicalAddress, chainToHubAmount,
  hubToChainAmount, klxBridgeAbi, observationOfLog, parseSecretKey, tokenOfAsset, type EvmAction, type EvmDomain, type RawLog,
} from './evm-codec.ts';
import { currentFees, errorSummary, errorText, isErrorOf, isTransient, makeEvmClient, mapLimit, rpcFailure, submissionGasFloor, submissionGasLimit, type EvmClient } from './evm-rpc.ts';
import { EvmSignerSet, evmSigner } from './evm-signing.ts';
import type { LinkedHeader } from './block-links.ts';
import { READ_CONCURRENCY, reorged, requireCanonical, requireEveryLog, requireOneHistory, type ScanReads } from './scan-history.ts';

export type EvmConfirmations = { kind: 'finalized' } | { kind: 'blocks'; count: number };

/** What the adapter needs from a deployment record (a full EvmDeployment fits). */
export type EvmAdapterDeployment = Pick<EvmDeployment, 'chainId' | 'bridge' | 'deployedAtBlock'> & {
  validators: Pick<EvmDeployment['validators'], 'processor' | 'approvers' | 'approverQuorum'>;
};

export interface EvmAdapterOptions {
  /** Configured chain name, e.g. "ethereum" or "polygon". */
  chain: string;
  rpcUrl: string;
  deployment: EvmAdapterDeployment;
  /** 'finalized': the node's finalized tag; 'blocks': latest − (count − 1) is final (count 1: latest). */
  confirmations: EvmConfirmations;
  pollingIntervalMs?: number;
  /** Blocks per eth_getLogs request (default 2,000: many providers cap the range). */
  logChunkBlocks?: number;
}

const DEFAULT_LOG_CHUNK_BLOCKS = 2_000;
const MAX_UINT64 = (1n << 64n) - 1n;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

export class EvmAdapter implements ChainAdapter {
  readonly family = 'evm' as const;
  readonly chain: string;
  readonly custody: Address;
  private readonly client: EvmClient;
  private readonly domain: EvmDomain;
  private readonly startBlock: bigint;
  private readonly confirmations: EvmConfirmations;
  private readonly logChunk: bigint;
  private readonly signers: EvmSignerSet;
  private readonly approverQuorum: number;
  private chainIdChecked: Promise<void> | undefined;
  /** What the scan's history checks read, through this adapter's client. */
  private readonly scanReads: ScanReads;

  constructor(o: EvmAdapterOptions) {
    if (!o.chain) throw new ConfigError('an EVM adapter needs a chain name');
    this.chain = o.chain;
    const d = o.deployment;
    const addr = (field: string, text: string) => {
      try {
        return canonicalAddress(o.chain, text);
      } catch (e) {
        throw new ConfigError(`${o.chain} deployment ${field}: ${(e as Error).message}`);
      }
    };
    this.custody = addr('bridge', d.bridge);
    this.domain = { chainId: d.chainId, bridge: this.custody };
    this.startBlock = BigInt(d.deployedAtBlock);
    const approvers = d.validators.approvers.map((a, i) => addr(`validators.approvers[${i}]`, a));
    this.approverQuorum = d.validators.approverQuorum;
    if (!Number.isInteger(this.approverQuorum) || this.approverQuorum < 1 || this.approverQuorum > approvers.length) {
      throw new ConfigError(`${o.chain} deployment: approver quorum ${this.approverQuorum} is not reachable with ${approvers.length} approvers`);
    }
    this.signers = new EvmSignerSet(o.chain, this.domain, addr('validators.processor', d.validators.processor), approvers, this.approverQuorum);
    if (o.confirmations.kind === 'blocks' && !(Number.isInteger(o.confirmations.count) && o.confirmations.count >= 1)) {
      throw new ConfigError(`${o.chain}: confirmations.count must be a whole number of blocks, at least 1`);
    }
    this.confirmations = o.confirmations;
    const chunk = o.logChunkBlocks ?? DEFAULT_LOG_CHUNK_BLOCKS;
    if (!Number.isInteger(chunk) || chunk < 1) throw new ConfigError(`${o.chain}: logChunkBlocks must be a positive whole number`);
    this.logChunk = BigInt(chunk);
    this.client = makeEvmClient(o.chain, d.chainId, o.rpcUrl, o.pollingIntervalMs);
    this.scanReads = {
      chain: this.chain,
      custody: this.custody,
      headerAt: (height) => this.headerAt(height),
      bridgeLogsOf: (blockHash) => this.rpc(`eth_getLogs of block ${blockHash}`, () => this.client.getLogs({ address: this.custody, events: bridgeEvents(), blockHash: blockHash as Hex })),
    };
  }

  // ---------------------------------------------------------------- addresses and amounts

  validateAddress(text: string): string {
    return canonicalAddress(this.chain, text);
  }

  toChainAmount(asset: ChainAssetSpec, hubAmount: bigint): bigint {
    return hubToChainAmount(this.chain, asset, hubAmount);
  }

  toHubAmount(asset: ChainAssetSpec, chainAmount: bigint): bigint {
    return chainToHubAmount(this.chain, asset, chainAmount);
  }

  // ---------------------------------------------------------------- observing

  async probe(): Promise<void> {
    // At the final block, which every node behind a load balancer should have by now.
    const { final } = await this.head();
    try {
      await this.client.request({ method: 'eth_getBalance', params: [this.custody, { blockHash: final.hash as Hex }] });
    } catch (err) {
      const failure = rpcFailure(this.chain, 'eth_getBalance by block hash', err);
      // Only a refusal of the parameter itself is a missing feature; anything else (a block not there yet) is no answer.
      const refused = (err instanceof BaseError && err.walk((e) => e instanceof InvalidParamsRpcError) !== null) || /invalid argument|not supported|unsupported|cannot unmarshal/.test(errorText(err));
      if (failure.retriable || !refused) {
        throw new ChainRpcError(this.chain, `start-up probe: ${failure.message}`, true);
      }
      throw new ChainRpcError(this.chain, `the RPC refuses a block named by its hash (EIP-1898), which custody reads need: ${failure.message}`, false);
    }
  }

  async head(): Promise<{ latest: BlockRef; final: BlockRef }> {
    await this.ready();
    if (this.confirmations.kind === 'finalized') {
      // Final first: a latest read afterwards can only be at or above it.
      const final = await this.taggedBlock('finalized');
      return { latest: await this.taggedBlock('latest'), final };
    }
    const latest = await this.taggedBlock('latest');
    const depth = BigInt(this.confirmations.count - 1);
    if (depth === 0n) return { latest, final: latest };
    const final = await this.blockAt(latest.height > depth ? latest.height - depth : 0n);
    return { latest, final };
  }

  async scan(after: BlockRef | null, upTo: BlockRef): Promise<ChainEvent[]> {
    await this.ready();
    if (after && after.height > upTo.height) {
      throw new KlxError('BAD_SCAN_RANGE', `${this.chain}: scan start ${after.height} is above its end ${upTo.height}`, false, { chain: this.chain });
    }
    let from = after ? after.height + 1n : this.startBlock;
    if (from < this.startBlock) from = this.startBlock;
    const events: ChainEvent[] = [];
    const logBlocks = new Set<string>(); // height:hash of every log the range read returned
    for (let lo = from; lo <= upTo.height; lo += this.logChunk) {
      const hi = lo + this.logChunk - 1n < upTo.height ? lo + this.logChunk - 1n : upTo.height;
      const logs = await this.rpc(`eth_getLogs ${lo}..${hi}`, () =>
        this.client.getLogs({ address: this.custody, events: bridgeEvents(), fromBlock: lo, toBlock: hi }),
      );
      for (const log of logs) {
        if (log.removed) throw new ChainRpcError(this.chain, `the node reported a removed log in block ${log.blockNumber}`, true);
        if (log.blockNumber !== null && log.blockHash !== null) logBlocks.add(`${log.blockNumber}:${log.blockHash.toLowerCase()}`);
        const event = this.observe(log);
        if (!event) continue;
        if (event.block.height < lo || event.block.height > hi) {
          throw new ChainRpcError(this.chain, `the node returned a log of block ${event.block.height} for blocks ${lo}..${hi}`, true);
        }
        events.push(event);
      }
    }
    // Checked after the logs are read, so one read of each block covers the whole scan.
    const headers = await requireOneHistory(this.scanReads, after, from, upTo, events.map((e) => e.block));
    await requireEveryLog(this.scanReads, headers, from, logBlocks);
    return events.sort(byChainPosition);
  }

  async eventsOfTx(txHash: string): Promise<ChainEvent[]> {
    if (typeof txHash !== 'string' || !TX_HASH.test(txHash)) {
      throw new KlxError('BAD_TX_HASH', `${this.chain}: a transaction hash is 0x followed by 64 hexadecimal digits`, false, { chain: this.chain });
    }
    await this.ready();
    let logs: readonly RawLog[];
    try {
      logs = (await this.client.getTransactionReceipt({ hash: txHash as Hex })).logs;
    } catch (err) {
      if (isErrorOf(err, TransactionReceiptNotFoundError)) return [];
      throw rpcFailure(this.chain, 'eth_getTransactionReceipt', err);
    }
    return logs
      .map((l) => this.observe(l))
      .filter((e): e is ChainEvent => e !== null)
      .sort(byChainPosition);
  }

  async checkReorg(attested: readonly BlockRef[]): Promise<BlockRef | null> {
    await this.ready();
    const current = await mapLimit(attested, READ_CONCURRENCY, (b) => this.blockAt(b.height).catch((e: unknown) => e as Error));
    // In order: the first block that changed, unless a read before it got no answer.
    for (const [i, b] of attested.entries()) {
      const now = current[i];
      if (now instanceof Error) throw now;
      if (!now || now.hash !== b.hash.toLowerCase()) return b;
    }
    return null;
  }

  /**
   * Keyed by the asset ids exactly as given ("native" or a token address in any accepted
   * spelling). Every read names the block by its hash (EIP-1898), so it is that block's state
   * whatever the chain does meanwhile; one check afterwards says the block is still the
   * chain's.
   */
  async custodyBalances(at: BlockRef, assets: readonly string[]): Promise<Map<string, bigint>> {
    const tokens = assets.map((a) => tokenOfAsset(this.chain, a));
    await this.ready();
    // Before its deployment the bridge held nothing (and its contract answers no call there).
    if (at.height < this.startBlock) {
      await requireCanonical(this.scanReads, at, 'at a block before the deployment', true);
      return new Map(assets.map((a) => [a, 0n]));
    }
    const block = { blockHash: at.hash as Hex };
    const erc20Balance = encodeFunctionData({ abi: erc20Abi, functionName: 'balanceOf', args: [this.custody] });
    // Free custody, as the contract's own release check computes it: held minus what deferred payouts left claimable.
    const balances = await mapLimit(tokens, READ_CONCURRENCY, async (token) => {
      const [held, owed] = await Promise.all([
        token === zeroAddress
          ? this.readAt(at, 'native balance', async () => hexToBigInt(await this.client.request({ method: 'eth_getBalance', params: [this.custody, block] })))
          : this.readAt(at, `balance of ${token}`, async () =>
              decodeFunctionResult({ abi: erc20Abi, functionName: 'balanceOf', data: await this.client.request({ method: 'eth_call', params: [{ to: token, data: erc20Balance }, block] }) }),
            ),
        this.readAt(at, `claimable of ${token}`, async () => {
          const data = await this.client.request({ method: 'eth_call', params: [{ to: this.custody, data: encodeFunctionData({ abi: klxBridgeAbi(), functionName: 'totalClaimable', args: [token] }) }, block] });
          const owed: unknown = decodeFunctionResult({ abi: klxBridgeAbi(), functionName: 'totalClaimable', data });
          if (typeof owed !== 'bigint') throw new Error(`the bridge answered totalClaimable with ${typeof owed}`);
          return owed;
        }),
      ]);
      return held - owed;
    });
    await requireCanonical(this.scanReads, at, 'after the balance read', true);
    return new Map(assets.map((a, i) => [a, balances[i] ?? 0n]));
  }

  /**
   * A read at block `at` (with its decoding): a failure is a reorganisation when the block is
   * no longer the chain's (a node refuses a hash it does not know), else the read's own error.
   */
  private async readAt<T>(at: BlockRef, what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      const gone = await this.blockAt(at.height).then(
        (now) => now.hash !== at.hash.toLowerCase(),
        () => false,
      );
      if (gone) throw reorged(this.chain, at, `during the ${what} read`, true);
      throw rpcFailure(this.chain, what, err);
    }
  }

  // ---------------------------------------------------------------- withdrawals

  buildAction(h: HubAction): UnsignedAction {
    if (typeof h.actionId !== 'bigint' || h.actionId < 1n || h.actionId > MAX_UINT64) throw this.badAction('action ids are 1 to 2^64 − 1');
    let action: EvmAction;
    if (h.kind === 'noop') {
      action = { actionId: h.actionId, kind: ActionKind.NoOp, token: zeroAddress, recipient: zeroAddress, amount: 0n };
    } else if (h.kind === 'release' || h.kind === 'mint') {
      const token = tokenOfAsset(this.chain, h.asset);
      if (h.kind === 'mint' && token === zeroAddress) throw this.badAction('the native coin cannot be minted');
      const recipient = canonicalAddress(this.chain, h.recipient);
      if (recipient === this.custody) throw new BadChainAddress(this.chain, 'the bridge itself cannot be a withdrawal recipient');
      if (typeof h.amount !== 'bigint' || h.amount <= 0n || h.amount > MAX_UINT256) {
        throw new UnrepresentableAmount(this.chain, `a ${h.kind} needs an amount from 1 to 2^256 − 1 base units`);
      }
      action = { actionId: h.actionId, kind: h.kind === 'release' ? ActionKind.Release : ActionKind.Mint, token, recipient, amount: h.amount };
    } else {
      throw this.badAction(`unknown action kind ${JSON.stringify(h.kind)}`);
    }
    return { chain: this.chain, actionId: h.actionId, payloadHash: actionDigest(this.domain, action), context: '', payload: actionToPayload(action) };
  }

  /** The contract's counter orders actions: they are built ahead, from hub data alone. */
  readonly signsAfterPreviousExecuted = false;
  readonly maxActionsPerSubmission = 64;

  actionContext(): Promise<string> {
    return Promise.resolve('');
  }

  signingRequests(unsigned: UnsignedAction, collected: readonly SignatureShare[]): SigningRequest[] {
    return this.signers.requests(unsigned, collected);
  }

  verifyShare(unsigned: UnsignedAction, share: SignatureShare): boolean {
    return this.signers.verify(unsigned, share);
  }

  signer(secret: string): ChainSigner {
    return evmSigner(secret);
  }

  assemble(unsigned: UnsignedAction, shares: readonly SignatureShare[]): SignedAction {
    return this.signers.assemble(unsigned, shares);
  }

  async prepareSubmission(actions: readonly SignedAction[], payerSecret: string, payerNonce: bigint | null): Promise<SubmissionRecord> {
    if (actions.length === 0) throw this.badSubmission('no actions to submit');
    if (payerNonce === null || payerNonce < 0n || payerNonce > BigInt(Number.MAX_SAFE_INTEGER)) throw this.badSubmission('an EVM submission needs the payer nonce');
    const signed = actions.map((a) => this.signers.checkSigned(a));
    for (let i = 1; i < signed.length; i++) {
      const prev = signed[i - 1] as (typeof signed)[number];
      const cur = signed[i] as (typeof signed)[number];
      if (cur.action.actionId !== prev.action.actionId + 1n) {
        throw this.badSubmission(`actions must have consecutive ascending ids (${prev.action.actionId} is followed by ${cur.action.actionId})`);
      }
    }
    const payer = privateKeyToAccount(bytesToHex(parseSecretKey(payerSecret)));
    const abi = klxBridgeAbi();
    const tuple = (a: EvmAction) => ({ kind: a.kind, token: a.token, recipient: a.recipient, amount: a.amount });
    const first = signed[0] as (typeof signed)[number];
    const data =
      signed.length === 1
        ? encodeFunctionData({ abi, functionName: 'execute', args: [first.action.actionId, tuple(first.action), first.processorSignature, first.approverSignatures] })
        : encodeFunctionData({
            abi,
            functionName: 'executeBatch',
            args: [first.action.actionId, signed.map((s) => tuple(s.action)), signed.map((s) => s.processorSignature), signed.map((s) => s.approverSignatures)],
          });
    await this.ready();
    const gas = await submissionGasLimit(this.client, this.chain, { from: payer.address, to: this.custody, data }, submissionGasFloor(signed.length, this.approverQuorum));
    const base = { chainId: this.domain.chainId, to: this.custody, data, gas, nonce: Number(payerNonce), value: 0n };
    const fees = await currentFees(this.client, this.chain);
    const raw =
      fees.type === 'eip1559'
        ? await payer.signTransaction({ ...base, type: 'eip1559', maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas })
        : await payer.signTransaction({ ...base, type: 'legacy', gasPrice: fees.gasPrice });
    return { txHash: keccak256(raw), nonce: payerNonce, raw };
  }

  async broadcast(record: SubmissionRecord): Promise<void> {
    if (!/^0x[0-9a-fA-F]+$/.test(record.raw) || keccak256(record.raw as Hex) !== record.txHash.toLowerCase()) {
      throw this.badSubmission('the raw transaction does not hash to the recorded txHash');
    }
    await this.ready();
    try {
      await this.client.sendRawTransaction({ serializedTransaction: record.raw as Hex });
    } catch (err) {
      const text = errorText(err);
      if (/already known|known transaction|already imported|already exists|alreadyknown/.test(text)) return;
      if (/nonce too low|nonce has already been used|oldnonce|nonce too small/.test(text)) {
        // Our own transaction landed (or is in the pool) with that nonce: nothing to do.
        if (await this.transactionKnown(record.txHash as Hex)) return;
        throw new ChainRpcError(this.chain, `payer nonce ${record.nonce} was used by another transaction: this submission must be prepared again`, false);
      }
      if (isTransient(err)) throw new ChainRpcError(this.chain, `eth_sendRawTransaction failed: ${errorSummary(err)}`, true);
      throw new ChainRpcError(this.chain, `the node refused the transaction: ${errorSummary(err)}`, false);
    }
  }

  async submissionState(record: SubmissionRecord): Promise<SubmissionState> {
    await this.ready();
    try {
      const receipt = await this.client.getTransactionReceipt({ hash: record.txHash as Hex });
      return receipt.status === 'success' ? 'included' : 'reverted';
    } catch (err) {
      if (!isErrorOf(err, TransactionReceiptNotFoundError)) throw rpcFailure(this.chain, 'eth_getTransactionReceipt', err);
    }
    return (await this.transactionKnown(record.txHash as Hex)) ? 'pending' : 'unknown';
  }

  async payerNonce(payerAddress: string): Promise<bigint | null> {
    const address = canonicalAddress(this.chain, payerAddress);
    await this.ready();
    return BigInt(await this.rpc('eth_getTransactionCount', () => this.client.getTransactionCount({ address, blockTag: 'pending' })));
  }

  async nextExecutableId(): Promise<bigint> {
    await this.ready();
    return this.nextActionIdAt(undefined);
  }

  async findExecution(actionId: bigint): Promise<ExecutionObservation | null> {
    if (actionId < 1n || actionId > MAX_UINT64) return null;
    await this.ready();
    const latest = await this.rpc('eth_blockNumber', () => this.client.getBlockNumber());
    const next = await this.nextActionIdAt(latest);
    if (actionId >= next) return null;
    // Executed: the log exists. Search newest first, where submitters usually look.
    const event = getAbiItem({ abi: klxBridgeAbi(), name: 'ActionExecuted' });
    for (let hi = latest; hi >= this.startBlock; hi -= this.logChunk) {
      const lo = hi - this.logChunk + 1n > this.startBlock ? hi - this.logChunk + 1n : this.startBlock;
      const logs = await this.rpc(`eth_getLogs ${lo}..${hi}`, () =>
        this.client.getLogs({ address: this.custody, event, args: { actionId }, fromBlock: lo, toBlock: hi }),
      );
      for (const log of logs) {
        const o = this.observe(log);
        if (o?.kind === 'execution' && o.actionId === actionId) return o;
      }
    }
    throw new ChainRpcError(this.chain, `action ${actionId} has executed (next id ${next}) but no ActionExecuted log exists since block ${this.startBlock}: check deployedAtBlock and the node's logs`, false);
  }

  // ---------------------------------------------------------------- internals

  /** Refuses to work against an RPC of another chain (checked once per adapter). */
  private ready(): Promise<void> {
    this.chainIdChecked ??= (async () => {
      const id = await this.rpc('eth_chainId', () => this.client.getChainId());
      if (id !== this.domain.chainId) {
        throw new ChainRpcError(this.chain, `the RPC serves chain id ${id} but the bridge is deployed on chain id ${this.domain.chainId}`, false);
      }
    })().catch((err: unknown) => {
      this.chainIdChecked = undefined;
      throw err;
    });
    return this.chainIdChecked;
  }

  private async rpc<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw rpcFailure(this.chain, what, err);
    }
  }

  private observe(log: RawLog): ChainEvent | null {
    return observationOfLog({ chain: this.chain, custody: this.custody }, log);
  }

  private async taggedBlock(tag: 'latest' | 'finalized'): Promise<BlockRef> {
    const b = await this.rpc(`the ${tag} block`, () => this.client.getBlock({ blockTag: tag }));
    if (b.number === null || b.hash === null) throw new ChainRpcError(this.chain, `the node returned the ${tag} block without number or hash`, true);
    return { height: b.number, hash: b.hash.toLowerCase() };
  }

  /** The canonical block at a height. An EVM chain has a block at every height up to its head, so never null. */
  async blockAt(height: bigint): Promise<BlockRef> {
    const h = await this.headerAt(height);
    return { height: h.height, hash: h.hash };
  }

  /**
   * A node without a block at this height gives no answer, a retriable error, and never
   * "no such block": callers ask for heights they saw final, and a node behind (or behind a
   * load balancer) would otherwise read as a reorganisation, or as an empty height that
   * listener-clear-halt steps over. A chain that really shrank is seen when it grows back
   * past the height, with another hash there.
   */
  private async headerAt(height: bigint): Promise<LinkedHeader> {
    try {
      const b = await this.client.getBlock({ blockNumber: height });
      if (b.hash !== null) return { height, hash: b.hash.toLowerCase(), parentHash: b.parentHash.toLowerCase(), logsBloom: b.logsBloom };
    } catch (err) {
      if (!isErrorOf(err, BlockNotFoundError)) throw rpcFailure(this.chain, `block ${height}`, err);
    }
    throw new ChainRpcError(this.chain, `block ${height}: the node has no block there (behind, or the chain is shorter now)`, true);
  }

  private async nextActionIdAt(blockNumber: bigint | undefined): Promise<bigint> {
    const id = await this.rpc('nextActionId', () =>
      this.client.readContract({ address: this.custody, abi: klxBridgeAbi(), functionName: 'nextActionId', ...(blockNumber === undefined ? {} : { blockNumber }) }),
    );
    return BigInt(id);
  }

  private async transactionKnown(hash: Hex): Promise<boolean> {
    try {
      await this.client.getTransaction({ hash });
      return true;
    } catch (err) {
      if (isErrorOf(err, TransactionNotFoundError)) return false;
      throw rpcFailure(this.chain, 'eth_getTransactionByHash', err);
    }
  }

  private badAction(reason: string): KlxError {
    return new KlxError('BAD_ACTION', `${this.chain}: not a valid EVM action: ${reason}`, false, { chain: this.chain });
  }

  private badSubmission(reason: string): KlxError {
    return new KlxError('BAD_SUBMISSION', `${this.chain}: ${reason}`, false, { chain: this.chain });
  }
}
