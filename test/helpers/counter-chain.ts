/**
 * CounterChain: an in-memory chain for submitter tests, ordered like the EVM bridge.
 * A transaction carries consecutive actions at a payer nonce; transactions are mined in
 * nonce order, and a batch executes only if, after skipping ids already consumed, its
 * first id equals `nextActionId` (otherwise it reverts, consuming its nonce). It records
 * the execution order, every broadcast, and how many transactions were in flight at
 * once, and injects faults: retriable broadcast failures, lost broadcasts, reverts, slow
 * or held inclusion, RPC outages, a crash just before or after a broadcast.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  ChainRpcError,
  type BlockRef,
  type ChainAdapter,
  type ChainSigner,
  type ExecutionObservation,
  type SignedAction,
  type SubmissionRecord,
  type SubmissionState,
  type UnsignedAction,
} from '../../adapters/chain-adapter.ts';
import { KlxError } from '../../relayer/ledger/errors.ts';

type TxStatus = 'mempool' | 'lost' | 'included' | 'reverted' | 'replaced';

export interface ChainTx {
  txHash: string;
  nonce: bigint;
  firstId: bigint;
  lastId: bigint;
  status: TxStatus;
  /** The chain's counter when the transaction was first broadcast. */
  counterAtBroadcast: bigint;
  includeAt: number;
}

interface RawTx {
  chain: string;
  payer: string;
  nonce: string;
  ids: string[];
  salt: string;
}

export const signedAction = (chain: string, actionId: bigint): SignedAction => ({ chain, actionId, payloadHash: `p${actionId}`, payload: { id: actionId.toString() } });

/** Thrown by the crash faults: what a process dying there would leave behind. */
export class SimulatedCrash extends Error {}

const unsupported = (what: string) => new Error(`CounterChain does not implement ${what}`);

export class CounterChain implements ChainAdapter {
  readonly family = 'evm' as const;
  readonly custody = 'counter-bridge';
  nextActionId: bigint;
  /** Mined nonce count of the payer. */
  minedNonce = 0n;
  /** Action ids in execution order. */
  readonly executed: bigint[] = [];
  /** Distinct transactions in first-broadcast order. */
  readonly txs: ChainTx[] = [];
  /** Every broadcast the chain accepted, in order (hashes; a re-broadcast repeats one). */
  readonly broadcasts: string[] = [];
  /** Highest number of transactions in the mempool at once. */
  maxInFlight = 0;

  // ---- faults
  /** Milliseconds between broadcast and inclusion. */
  inclusionDelayMs = 0;
  /** While true nothing is mined. */
  held = false;
  /** actionId -> how many more broadcasts of a transaction containing it fail (retriable). */
  readonly failBroadcasts = new Map<bigint, number>();
  /** actionId -> how many more transactions containing it revert (e.g. insufficient custody). */
  readonly reverts = new Map<bigint, number>();
  /** The next N new transactions are accepted but never mined until broadcast again. */
  loseNext = 0;
  /** While true, broadcasts are accepted but reach no miner (a black-holed RPC). */
  blackhole = false;
  /** The next N RPC calls fail with a retriable error. */
  rpcDown = 0;
  /** One-shot crashes around the next broadcast. */
  crashBeforeBroadcast = false;
  crashAfterBroadcast = false;
  /** Awaited at the start of every prepareSubmission (lets a test line up two submitters). */
  beforePrepare: (() => Promise<void>) | undefined;

  private readonly byHash = new Map<string, ChainTx>();

  constructor(
    readonly chain: string,
    firstActionId = 1n,
  ) {
    this.nextActionId = firstActionId;
  }

  /** Another transaction of the payer (sent elsewhere) is mined: it takes the next nonce. */
  useNonceElsewhere(): void {
    this.minedNonce++;
    this.mine();
  }

  /** Lets held transactions be mined. */
  release(): void {
    this.held = false;
  }

  private rpc(): void {
    if (this.rpcDown > 0) {
      this.rpcDown--;
      throw new ChainRpcError(this.chain, 'RPC unavailable (injected)', true);
    }
    this.mine();
  }

  /** Mines every due mempool transaction in nonce order. */
  private mine(): void {
    // A transaction whose nonce was taken by another one can never be mined.
    for (const t of this.txs) if ((t.status === 'mempool' || t.status === 'lost') && t.nonce < this.minedNonce) t.status = 'replaced';
    for (;;) {
      if (this.held) return;
      const tx = this.txs.find((t) => t.status === 'mempool' && t.nonce === this.minedNonce && t.includeAt <= Date.now());
      if (!tx) return;
      this.minedNonce++;
      for (const other of this.txs) if (other !== tx && other.nonce === tx.nonce && (other.status === 'mempool' || other.status === 'lost')) other.status = 'replaced';
      tx.status = this.execute(tx) ? 'included' : 'reverted';
    }
  }

  private execute(tx: ChainTx): boolean {
    if (tx.lastId < this.nextActionId) return false; // everything consumed: ActionOutOfOrder
    const start = tx.firstId > this.nextActionId ? tx.firstId : this.nextActionId;
    if (start !== this.nextActionId) return false; // a gap: ActionOutOfOrder
    for (let id = start; id <= tx.lastId; id++) {
      const left = this.reverts.get(id) ?? 0;
      if (left > 0) {
        this.reverts.set(id, left - 1);
        return false; // all or nothing
      }
    }
    for (let id = start; id <= tx.lastId; id++) this.executed.push(id);
    this.nextActionId = tx.lastId + 1n;
    return true;
  }

  private payerOf(secret: string): string {
    if (!/^[0-9a-f]{64}$/.test(secret)) throw new KlxError('BAD_PAYER_KEY', `${this.chain}: the payer key is not a 32-byte hex secret`, false, { chain: this.chain });
    return `payer-${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
  }

  signer(secret: string): ChainSigner {
    const address = this.payerOf(secret);
    return { address, sign: () => new Uint8Array(65) };
  }

  async prepareSubmission(actions: readonly SignedAction[], payerSecret: string, payerNonce: bigint | null): Promise<SubmissionRecord> {
    await this.beforePrepare?.();
    const payer = this.payerOf(payerSecret);
    if (payerNonce === null) throw new KlxError('NONCE_REQUIRED', 'CounterChain needs a payer nonce', false);
    actions.forEach((a, i) => {
      if (a.chain !== this.chain || (i > 0 && a.actionId !== (actions[i - 1] as SignedAction).actionId + 1n)) throw new Error('actions are not consecutive');
    });
    // A random salt, like a gas price that changed: preparing again gives DIFFERENT bytes.
    const body: RawTx = { chain: this.chain, payer, nonce: payerNonce.toString(), ids: actions.map((a) => a.actionId.toString()), salt: randomBytes(4).toString('hex') };
    const raw = JSON.stringify(body);
    return { txHash: `0x${createHash('sha256').update(raw).digest('hex')}`, nonce: payerNonce, raw };
  }

  broadcast(record: SubmissionRecord): Promise<void> {
    return Promise.resolve().then(() => {
      if (this.crashBeforeBroadcast) {
        this.crashBeforeBroadcast = false;
        throw new SimulatedCrash('simulated crash before the broadcast');
      }
      this.rpc();
      const body = JSON.parse(record.raw) as RawTx;
      const ids = body.ids.map((x) => BigInt(x));
      const firstId = ids[0] ?? 0n;
      const lastId = ids[ids.length - 1] ?? 0n;
      for (const id of ids) {
        const left = this.failBroadcasts.get(id) ?? 0;
        if (left > 0) {
          this.failBroadcasts.set(id, left - 1);
          throw new ChainRpcError(this.chain, `broadcast failed (injected, action ${id})`, true);
        }
      }
      const known = this.byHash.get(record.txHash);
      const nonce = BigInt(body.nonce);
      if (known?.status === 'replaced' || (!known && nonce < this.minedNonce)) throw new ChainRpcError(this.chain, 'nonce too low', false);
      this.broadcasts.push(record.txHash);
      if (known) {
        if (known.status === 'lost' && !this.blackhole) known.status = 'mempool'; // the second broadcast reaches the miners
      } else {
        const tx: ChainTx = { txHash: record.txHash, nonce, firstId, lastId, status: 'mempool', counterAtBroadcast: this.nextActionId, includeAt: Date.now() + this.inclusionDelayMs };
        if (this.blackhole) tx.status = 'lost';
        else if (this.loseNext > 0) {
          this.loseNext--;
          tx.status = 'lost';
        }
        this.txs.push(tx);
        this.byHash.set(tx.txHash, tx);
      }
      this.maxInFlight = Math.max(this.maxInFlight, this.txs.filter((t) => t.status === 'mempool' || t.status === 'lost').length);
      if (this.crashAfterBroadcast) {
        this.crashAfterBroadcast = false;
        throw new SimulatedCrash('simulated crash after the broadcast');
      }
    });
  }

  submissionState(record: SubmissionRecord): Promise<SubmissionState> {
    return Promise.resolve().then(() => {
      this.rpc();
      const tx = this.byHash.get(record.txHash);
      if (!tx || tx.status === 'lost' || tx.status === 'replaced') return 'unknown';
      return tx.status === 'mempool' ? 'pending' : tx.status;
    });
  }

  payerNonce(_payer: string): Promise<bigint | null> {
    return Promise.resolve().then(() => {
      this.rpc();
      let n = this.minedNonce;
      while (this.txs.some((t) => t.status === 'mempool' && t.nonce === n)) n++;
      return n;
    });
  }

  nextExecutableId(): Promise<bigint> {
    return Promise.resolve().then(() => {
      this.rpc();
      return this.nextActionId;
    });
  }

  /** Distinct transactions that carried `actionId`. */
  txsWith(actionId: bigint): ChainTx[] {
    return this.txs.filter((t) => t.firstId <= actionId && actionId <= t.lastId);
  }

  // ---- the rest of the interface is not used by the submitter
  validateAddress(): string {
    throw unsupported('validateAddress');
  }
  toChainAmount(): bigint {
    throw unsupported('toChainAmount');
  }
  toHubAmount(): bigint {
    throw unsupported('toHubAmount');
  }
  probe(): Promise<void> {
    return Promise.reject(unsupported('probe'));
  }
  head(): Promise<{ latest: BlockRef; final: BlockRef }> {
    return Promise.reject(unsupported('head'));
  }
  scan(): Promise<never[]> {
    return Promise.reject(unsupported('scan'));
  }
  eventsOfTx(): Promise<never[]> {
    return Promise.reject(unsupported('eventsOfTx'));
  }
  checkReorg(): Promise<BlockRef | null> {
    return Promise.reject(unsupported('checkReorg'));
  }
  blockAt(): Promise<BlockRef | null> {
    return Promise.reject(unsupported('blockAt'));
  }
  custodyBalances(): Promise<Map<string, bigint>> {
    return Promise.reject(unsupported('custodyBalances'));
  }
  readonly signsAfterPreviousExecuted = false;
  readonly maxActionsPerSubmission = 64;
  actionContext(): Promise<string> {
    return Promise.reject(unsupported('actionContext'));
  }
  buildAction(): UnsignedAction {
    throw unsupported('buildAction');
  }
  signingRequests(): never[] {
    throw unsupported('signingRequests');
  }
  verifyShare(): boolean {
    throw unsupported('verifyShare');
  }
  assemble(): SignedAction {
    throw unsupported('assemble');
  }
  findExecution(): Promise<ExecutionObservation | null> {
    return Promise.reject(unsupported('findExecution'));
  }
}
