/**
 * ChannelProcessor: the only block producer of one channel, with hot standbys.
 *
 * Leadership is a session-level PostgreSQL advisory lock held by one dedicated
 * connection; every block is written through that same connection, so a process that
 * lost its session (crash, kill -9, terminated while frozen) cannot write anything.
 * Standbys block on the lock and take over the moment the leader's session ends.
 *
 * Transactions are executed in arrival order against the in-memory state, one block
 * each, and a batch of blocks is committed by one statement (group commit). A sender
 * is acknowledged only after that commit: an acknowledged transaction is durable.
 * If a commit fails, the outcome is unknown, so waiting senders get a retriable
 * NOT_LEADER and the processor steps down and reloads; a retried transaction that
 * was in fact committed is answered with its existing inclusion (`duplicate: true`).
 */
import type pg from 'pg';
import { MAX_BLOCK_BYTES, blockWireSize, decodeBlock, headOf, sealBlock, type Block } from '../ledger/block.ts';
import { bytesEqual, toHex } from '../ledger/bytes.ts';
import { ConfigError, KlxError, NotLeaderError, TxRejected } from '../ledger/errors.ts';
import type { Ed25519Signer } from '../ledger/keys.ts';
import { executeTx, RULES_VERSION } from '../ledger/rules.ts';
import { nextCommitment, type LedgerState, type StateChange } from '../ledger/state.ts';
import { BAD_SIGNATURE_MESSAGE, checkTxStructure, type ChannelContext, type SignatureClaim, type SignedTx } from '../ledger/transaction.ts';
import { InlineSignatureVerifier, type SignatureVerifier } from './signature-verifier.ts';
import { TypedEmitter, type ProcessorEvents } from '../events.ts';
import { ChannelStore, type TxInclusion } from '../store/channel-store.ts';
import { connectClient } from '../store/db.ts';
import { migrate, MigrationError } from '../store/migrate.ts';
import { buildGenesis, type GenesisSpec } from './genesis.ts';

export interface ProcessorOptions {
  databaseUrl: string;
  schema: string;
  context: ChannelContext;
  producer: Ed25519Signer;
  genesis: GenesisSpec;
  /** Names this process in logs and in the blocks it writes (diagnostics only). */
  instance: string;
  maxBatch?: number;
  maxQueue?: number;
  /** Where signatures are verified (default: on the calling thread). */
  verifier?: SignatureVerifier;
}

export interface Receipt {
  txId: string;
  channel: string;
  height: string;
  blockHash: string;
  /** True when the transaction had already been included by an earlier submission. */
  duplicate: boolean;
}

interface Pending {
  tx: SignedTx;
  resolve: (r: Receipt) => void;
  reject: (e: Error) => void;
}

interface Leadership {
  client: pg.Client;
  store: ChannelStore;
  state: LedgerState;
  lost: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Quick re-campaign after losing leadership; slower retries while the database is unreachable. */
const retryDelay = (reason: string) => (/ECONNREFUSED|ENOTFOUND|timeout/i.test(reason) ? 1000 : 100);

export class ChannelProcessor extends TypedEmitter<ProcessorEvents> {
  private queue: Pending[] = [];
  private wake: (() => void) | null = null;
  private leadership: Leadership | null = null;
  private lockClient: pg.Client | null = null;
  private stopped = false;
  private campaign: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly verifier: SignatureVerifier;

  constructor(private readonly opts: ProcessorOptions) {
    super();
    this.verifier = opts.verifier ?? new InlineSignatureVerifier();
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxQueue = opts.maxQueue ?? 20_000;
  }

  get channel(): string {
    return this.opts.context.channel;
  }
  get isLeader(): boolean {
    return this.leadership !== null && this.leadership.lost === null;
  }

  /** Starts campaigning for leadership. The returned promise settles when the processor stops (rejects on a fatal error). */
  start(): Promise<void> {
    this.campaign = this.runCampaign();
    return this.campaign;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.lockClient?.end().catch(() => undefined);
    await this.campaign.catch(() => undefined);
  }

  /** Verifies a transaction statically (structure, then signature), queues it; resolves once its block is durable. */
  submit(tx: SignedTx): Promise<Receipt> {
    return this.submitMany([tx])[0] as Promise<Receipt>;
  }

  /**
   * Submits several transactions; they are queued in array order once all their
   * signatures are verified (so consecutive nonces of one lane may travel together).
   * One promise per transaction: each is accepted or rejected on its own.
   */
  submitMany(txs: readonly SignedTx[]): Promise<Receipt>[] {
    const slots = txs.map(() => {
      let resolve!: (r: Receipt) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Receipt>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    });
    const checked = txs.map((tx) => {
      try {
        return checkTxStructure(tx, this.opts.context);
      } catch (e) {
        return e as Error;
      }
    });
    const claims = checked.filter((c): c is SignatureClaim => !(c instanceof Error));
    this.verifier.verify(claims).then(
      (valid) => {
        let v = 0;
        txs.forEach((tx, i) => {
          const slot = slots[i] as (typeof slots)[number];
          const c = checked[i];
          if (c instanceof Error) return slot.reject(c);
          if (!valid[v++]) return slot.reject(new TxRejected('BAD_SIGNATURE', BAD_SIGNATURE_MESSAGE));
          this.enqueue(tx, slot.resolve, slot.reject);
        });
      },
      (e: unknown) => {
        for (const s of slots) s.reject(new KlxError('VERIFIER_UNAVAILABLE', `signature verification failed: ${(e as Error).message}`, true));
      },
    );
    return slots.map((s) => s.promise);
  }

  private enqueue(tx: SignedTx, resolve: (r: Receipt) => void, reject: (e: Error) => void): void {
    if (this.stopped || !this.isLeader) return reject(new NotLeaderError(this.channel));
    if (this.queue.length >= this.maxQueue) return reject(new KlxError('OVERLOADED', 'the processor queue is full; retry shortly', true));
    this.queue.push({ tx, resolve, reject });
    this.wake?.();
  }

  private async runCampaign(): Promise<void> {
    const { schema, context, instance } = this.opts;
    while (!this.stopped) {
      let client: pg.Client | null = null;
      let reason = 'stopped';
      try {
        client = await connectClient(this.opts.databaseUrl);
        this.lockClient = client;
        if (this.stopped) break;
        const l: Leadership = { client, store: new ChannelStore(client, schema, context.channel), state: null as never, lost: null };
        const onLost = (why: string) => {
          l.lost ??= why;
          this.wake?.();
        };
        client.on('error', (e) => onLost(`database session error: ${e.message}`));
        client.on('end', () => onLost('database session ended'));
        await migrate(client, schema);
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`klx-processor:${schema}:${context.channel}`]);
        if (this.stopped) break;
        l.state = await this.takeOver(l.store);
        this.leadership = l;
        this.emit('leader-elected', { channel: context.channel, instance, height: l.state.head.height });
        await this.produce(l);
        reason = l.lost ?? 'stopped';
      } catch (e) {
        if (e instanceof ConfigError || e instanceof MigrationError || e instanceof TxRejected) {
          // Not going to get better by retrying: a wrong key, a broken migration, an invalid genesis.
          this.stopped = true;
          throw e instanceof TxRejected ? new ConfigError(`channel ${context.channel}: invalid genesis: ${e.message}`) : e;
        }
        reason = (e as Error).message;
        if (!this.leadership && !this.stopped) this.emit('campaign-error', { channel: context.channel, instance, message: reason });
      } finally {
        const wasLeader = this.leadership !== null;
        this.leadership = null;
        this.lockClient = null;
        this.failQueue(() => new NotLeaderError(context.channel, `channel ${context.channel}: leadership lost; retry`));
        await client?.end().catch(() => undefined);
        if (wasLeader && !this.stopped) this.emit('leadership-lost', { channel: context.channel, instance, reason });
      }
      if (!this.stopped) await sleep(retryDelay(reason));
    }
  }

  private async takeOver(store: ChannelStore): Promise<LedgerState> {
    const state = await store.loadState();
    if (state.head.height < 0n) {
      const g = buildGenesis(this.opts.context, this.opts.genesis, this.opts.producer);
      await store.appendBlocks([g.block], [g.changes], this.opts.instance);
      state.apply(g.changes);
      state.advance(headOf(g.block));
    } else {
      await this.checkStoredChain(store, state);
    }
    return state;
  }

  /** Refuses to extend a stored chain this configuration does not describe: it would write blocks every verifier refuses. */
  private async checkStoredChain(store: ChannelStore, state: LedgerState): Promise<void> {
    const { network, channel, addressPrefix } = this.opts.context;
    const refuse = (what: string) => {
      throw new ConfigError(`channel ${channel}: the stored chain ${what}; refusing to produce blocks for it`);
    };
    if (!state.producer || !bytesEqual(state.producer, this.opts.producer.publicKey)) refuse('names another producer than the configured block key');
    if (state.addressPrefix !== addressPrefix) refuse(`uses address prefix "${state.addressPrefix}", configured "${addressPrefix}"`);
    const [genesisRow] = await store.readBlockRows(0n, 0n);
    if (!genesisRow) return refuse('has no genesis block');
    const genesis = decodeBlock(new Uint8Array(genesisRow.body), new Uint8Array(genesisRow.signature));
    if (genesis.network !== network || genesis.channel !== channel) refuse(`belongs to ${genesis.network}/${genesis.channel}, configured ${network}/${channel}`);
    if (state.head.rulesVersion > RULES_VERSION) refuse(`was produced under rules version ${state.head.rulesVersion}, this build knows ${RULES_VERSION}`);
  }

  private failQueue(err: () => Error): void {
    const q = this.queue;
    this.queue = [];
    for (const p of q) p.reject(err());
  }

  private async produce(l: Leadership): Promise<void> {
    while (!this.stopped && l.lost === null) {
      if (this.queue.length === 0) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      await this.produceBatch(l, this.queue.splice(0, this.maxBatch));
    }
  }

  /**
   * Builds one block per acceptable transaction and commits them together. Every answer
   * waits for the commit: a rejection may depend on earlier transactions of the same
   * batch (a balance they spent), so if the commit fails, rejections become retriable
   * NOT_LEADER answers like everything else in the batch.
   */
  private async produceBatch(l: Leadership, batch: Pending[]): Promise<void> {
    const { state, store } = l;
    const blocks: Block[] = [];
    const changesList: StateChange[][] = [];
    const accepted: { p: Pending; block: Block }[] = [];
    const rejected: { p: Pending; err: Error }[] = [];
    const maybeIncluded: { p: Pending; err: TxRejected }[] = [];
    for (const p of batch) {
      try {
        const block = this.buildBlock(state, p.tx, changesList);
        blocks.push(block);
        accepted.push({ p, block });
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (err instanceof TxRejected && err.code === 'NONCE_MISMATCH' && p.tx.nonce < state.nextNonce(p.tx.sender, p.tx.lane)) {
          maybeIncluded.push({ p, err });
        } else {
          rejected.push({ p, err });
        }
      }
    }
    const unknownOutcome = (why: string) => () => new NotLeaderError(this.channel, `channel ${this.channel}: ${why}; retry the same transaction`);
    if (blocks.length > 0) {
      const t0 = performance.now();
      try {
        await store.appendBlocks(blocks, changesList, this.opts.instance);
      } catch (e) {
        l.lost ??= `block write failed: ${(e as Error).message}`;
        const retry = unknownOutcome(`write outcome unknown (${l.lost})`);
        for (const x of [...accepted, ...rejected, ...maybeIncluded]) x.p.reject(retry());
        return;
      }
      const first = blocks[0] as Block;
      const last = blocks[blocks.length - 1] as Block;
      this.emit('blocks-committed', { channel: this.channel, fromHeight: first.height, toHeight: last.height, count: blocks.length, writeMs: performance.now() - t0, txTypes: [...new Set(blocks.map((b) => b.tx.type))] });
    }
    for (const { p, block } of accepted) {
      p.resolve({ txId: toHex(p.tx.id), channel: this.channel, height: block.height.toString(), blockHash: toHex(block.hash), duplicate: false });
    }
    for (const { p, err } of rejected) {
      if (err instanceof KlxError) this.emit('tx-rejected', { channel: this.channel, code: err.code });
      p.reject(err);
    }
    if (maybeIncluded.length === 0) return;
    let found: Map<string, TxInclusion>;
    try {
      found = await store.findTxs(maybeIncluded.map((m) => m.p.tx.id));
    } catch (e) {
      l.lost ??= `transaction lookup failed: ${(e as Error).message}`;
      const retry = unknownOutcome('could not check for an earlier inclusion');
      for (const m of maybeIncluded) m.p.reject(retry());
      return;
    }
    for (const { p, err } of maybeIncluded) {
      const inclusion = found.get(toHex(p.tx.id));
      if (inclusion) {
        p.resolve({ txId: toHex(p.tx.id), channel: this.channel, height: inclusion.height.toString(), blockHash: inclusion.blockHash, duplicate: true });
      } else {
        this.emit('tx-rejected', { channel: this.channel, code: err.code });
        p.reject(err);
      }
    }
  }

  /** Executes `tx` as the next block, applies it to `state`; throws (changing nothing) if it is rejected. */
  private buildBlock(state: LedgerState, tx: SignedTx, changesList: StateChange[][]): Block {
    const changes = executeTx(state, tx, RULES_VERSION);
    const head = state.head;
    const now = BigInt(Date.now());
    const height = head.height + 1n;
    const block = sealBlock(
      {
        network: this.opts.context.network,
        channel: this.opts.context.channel,
        height,
        prevHash: head.hash,
        timestampMs: now > head.timestampMs ? now : head.timestampMs,
        rulesVersion: RULES_VERSION,
        stateCommitment: nextCommitment(head.commitment, height, changes),
      },
      tx,
      this.opts.producer,
    );
    if (blockWireSize(block.body.length) > MAX_BLOCK_BYTES) {
      throw new TxRejected('TX_TOO_LARGE', `the block carrying this transaction would exceed ${MAX_BLOCK_BYTES} bytes`);
    }
    state.apply(changes);
    state.advance(headOf(block));
    changesList.push(changes);
    return block;
  }
}
