/**
 * HubView: how a bridge role (listener, approver, submitter) sees and writes the hub.
 * It reads ONLY its own verified copy of the ledger (a VerifyingFollower into the
 * role's own schema, fed by the channel node's block stream) and writes by submitting
 * signed transactions to the channel node; it never reads the processor's database.
 * A block that does not verify halts the view for good (`halted`): the role must stop.
 */
import type pg from 'pg';
import { BlockVerificationError, KlxError } from '../ledger/errors.ts';
import type { Ed25519Signer } from '../ledger/keys.ts';
import { addressFromPublicKey } from '../ledger/address.ts';
import type { LedgerState } from '../ledger/state.ts';
import { signTx } from '../ledger/transaction.ts';
import type { TxBodies } from '../ledger/tx-bodies.ts';
import type { ChainIdentity } from '../ledger/verifier.ts';
import { TypedEmitter, type FollowerEvents } from '../events.ts';
import { HttpBlockSource } from '../follower/block-source.ts';
import { VerifyingFollower } from '../follower/follower.ts';
import { ChannelClient } from '../node/client.ts';
import type { Receipt } from '../processor/processor.ts';

export interface HubViewOptions {
  pool: pg.Pool;
  /** The role's own schema. */
  schema: string;
  identity: ChainIdentity & { producer: Uint8Array };
  hubUrl: string;
  key: Ed25519Signer;
}

export interface HubViewEvents extends FollowerEvents {
  'tx-rejected': { type: string; code: string; message: string };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class HubView extends TypedEmitter<HubViewEvents> {
  readonly follower: VerifyingFollower;
  readonly client: ChannelClient;
  readonly address: string;
  private readonly abort = new AbortController();
  private running: Promise<void> = Promise.resolve();
  private readonly nonces = new Map<number, bigint>();
  private readonly laneQueues = new Map<number, Promise<unknown>>();
  halted: string | null = null;

  constructor(private readonly opts: HubViewOptions) {
    super();
    this.follower = new VerifyingFollower({ pool: opts.pool, schema: opts.schema, identity: opts.identity });
    this.client = new ChannelClient(opts.hubUrl, opts.identity.channel);
    this.address = addressFromPublicKey(opts.identity.addressPrefix, opts.key.publicKey);
    this.follower.on('block-verified', (e) => this.emit('block-verified', e));
    this.follower.on('halted', (e) => {
      this.halted = `height ${e.height}: ${e.reason}: ${e.message}`;
      this.emit('halted', e);
    });
  }

  get state(): LedgerState {
    return this.follower.state;
  }
  get height(): bigint {
    return this.follower.height;
  }

  async start(): Promise<void> {
    await this.follower.open();
    this.running = this.follow();
  }

  private async follow(): Promise<void> {
    const source = new HttpBlockSource(this.opts.hubUrl, this.opts.identity.channel, (message) =>
      this.emit('source-error', { channel: this.opts.identity.channel, message }),
    );
    while (!this.abort.signal.aborted && !this.halted) {
      try {
        await this.follower.run(source, this.abort.signal);
      } catch (e) {
        if (e instanceof BlockVerificationError) return; // `halted` was emitted: never continue past a bad block
        this.emit('source-error', { channel: this.opts.identity.channel, message: (e as Error).message });
        await sleep(500);
        await this.follower.open().catch(() => undefined); // resync memory with the own store
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  /** Resolves once the verified copy reaches `height` (or rejects when halted / stopped). */
  async waitForHeight(height: bigint, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.follower.height < height) {
      if (this.halted) throw new KlxError('HUB_VIEW_HALTED', `the verified hub copy halted: ${this.halted}`, false);
      if (this.abort.signal.aborted) throw new KlxError('STOPPED', 'stopped', false);
      if (Date.now() > deadline) throw new KlxError('HUB_VIEW_LAGGING', `the verified hub copy did not reach height ${height}`, true);
      await sleep(10);
    }
  }

  /**
   * Signs and submits one transaction on `lane` (one at a time per lane, so nonces stay
   * consecutive), retrying what is retriable. Resolves with the receipt once it is durable.
   */
  submit<T extends keyof TxBodies>(type: T, body: TxBodies[T], lane = 0): Promise<Receipt> {
    const previous = this.laneQueues.get(lane) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.submitNow(type, body, lane));
    this.laneQueues.set(lane, next);
    return next;
  }

  private async submitNow<T extends keyof TxBodies>(type: T, body: TxBodies[T], lane: number): Promise<Receipt> {
    const { network, channel } = this.opts.identity;
    for (let attempt = 0; ; attempt++) {
      const nonce = this.nonces.get(lane) ?? this.state.nextNonce(this.address, lane);
      const tx = signTx({ network, channel, type, sender: this.address, lane, nonce, body }, this.opts.key);
      try {
        const receipt = await this.client.submit(tx);
        this.nonces.set(lane, nonce + 1n);
        return receipt;
      } catch (e) {
        const err = e as KlxError;
        if (err.code === 'NONCE_MISMATCH' && attempt < 5) {
          // Our counter and the hub disagree (a restart, a lagging copy): take the hub's word for the nonce only.
          const expected = err.details.expected;
          this.nonces.set(lane, typeof expected === 'string' ? BigInt(expected) : this.state.nextNonce(this.address, lane));
          continue;
        }
        if (err.retriable && attempt < 50 && !this.abort.signal.aborted) {
          await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)));
          continue;
        }
        this.emit('tx-rejected', { type, code: err.code ?? 'ERROR', message: err.message });
        throw err;
      }
    }
  }
}
