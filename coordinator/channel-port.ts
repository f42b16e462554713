/**
 * ChannelPort: how the coordinator reaches one channel (a participant): send a signed step
 * (a hub transaction from the coordinator's key) and read the participant's records and blocks.
 * `HttpChannelPort` talks to a channel node API; tests use in-memory channels running the same
 * rules. A step's answer is the participant's vote or acknowledgement; a transport failure is
 * `retriable` and never a vote.
 */
import { blockWireBytes } from '../relayer/ledger/block.ts';
import { KlxError } from '../relayer/ledger/errors.ts';
import type { Ed25519Signer } from '../relayer/ledger/keys.ts';
import { signTx, type ChannelContext } from '../relayer/ledger/transaction.ts';
import type { TxBodies } from '../relayer/ledger/tx-bodies.ts';
import type { XferRecord } from '../relayer/ledger/xfer-rules.ts';
import type { MigrationRecord } from '../relayer/ledger/migration-rules.ts';
import { addressFromPublicKey } from '../relayer/ledger/address.ts';
import { messageToBlock } from '../relayer/node/block-message.ts';
import { ApiError, ChannelClient } from '../relayer/node/client.ts';

export type StepType = 'xfer-prepare' | 'xfer-commit' | 'xfer-abort' | 'migrate-prepare' | 'migrate-commit' | 'migrate-abort';

export type StepResult = { ok: true; height: bigint } | { ok: false; code: string; message: string; retriable: boolean };

export interface ChannelPort {
  readonly channel: string;
  step<T extends StepType>(type: T, body: TxBodies[T]): Promise<StepResult>;
  /** The participant's record of a transfer (tombstones included), or null. Throws a retriable error when unreachable. */
  transfer(id: string): Promise<XferRecord | null>;
  migration(chain: string, eventId: string): Promise<MigrationRecord | null>;
  /** Migrations of `chain` whose deposit is attested and that no coordinator has prepared yet. */
  openMigrations(chain: string): Promise<MigrationRecord[]>;
  /** A block's wire bytes (signature included): the proof a peer checks. */
  blockWire(height: bigint): Promise<Uint8Array>;
}

export class ChannelUnreachable extends KlxError {
  constructor(channel: string, message: string) {
    super('CHANNEL_UNREACHABLE', `channel ${channel}: ${message}`, true, { channel });
  }
}

/** Signs the coordinator's steps for one channel over HTTP, one at a time per lane, with the hub's nonce. */
export class HttpChannelPort implements ChannelPort {
  private readonly client: ChannelClient;
  private readonly address: string;
  private readonly nonces = new Map<number, bigint>();
  private readonly lanes: Promise<unknown>[];
  private nextLane = 0;

  constructor(
    private readonly ctx: ChannelContext,
    url: string,
    private readonly key: Ed25519Signer,
    laneCount = 8,
  ) {
    this.client = new ChannelClient(url, ctx.channel);
    this.address = addressFromPublicKey(ctx.addressPrefix, key.publicKey);
    this.lanes = Array.from({ length: laneCount }, () => Promise.resolve());
  }

  get channel(): string {
    return this.ctx.channel;
  }

  step<T extends StepType>(type: T, body: TxBodies[T]): Promise<StepResult> {
    const lane = this.nextLane++ % this.lanes.length;
    const run = (this.lanes[lane] as Promise<unknown>).catch(() => undefined).then(() => this.stepNow(type, body, lane));
    this.lanes[lane] = run;
    return run;
  }

  private async stepNow<T extends StepType>(type: T, body: TxBodies[T], lane: number): Promise<StepResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        const nonce = this.nonces.get(lane) ?? (await this.client.nextNonce(this.address, lane));
        const tx = signTx({ network: this.ctx.network, channel: this.ctx.channel, type, sender: this.address, lane, nonce, body }, this.key);
        const receipt = await this.client.submit(tx);
        this.nonces.set(lane, nonce + 1n);
        return { ok: true, height: BigInt(receipt.height) };
      } catch (e) {
        this.nonces.delete(lane); // re-read the hub's nonce next time: a lost answer may have used it
        const err = e instanceof ApiError ? e : new ApiError(0, 'UNREACHABLE', (e as Error).message, true);
        if (err.code === 'NONCE_MISMATCH' && attempt < 3) continue;
        return { ok: false, code: err.code, message: err.message, retriable: err.retriable || err.code === 'NONCE_MISMATCH' };
      }
    }
  }

  private async read<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new ChannelUnreachable(this.channel, (e as Error).message);
    }
  }

  transfer(id: string): Promise<XferRecord | null> {
    return this.read(async () => {
      try {
        return await this.client.bridgeRecordAt<XferRecord>(`xfer/${id}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    });
  }
  migration(chain: string, eventId: string): Promise<MigrationRecord | null> {
    return this.read(() => this.client.bridgeRecord<MigrationRecord>('migration', chain, eventId));
  }
  openMigrations(chain: string): Promise<MigrationRecord[]> {
    return this.read(async () => (await this.client.bridgeRecords<MigrationRecord>('migration', chain)).filter((m) => m.status === 'attested'));
  }
  blockWire(height: bigint): Promise<Uint8Array> {
    return this.read(async () => blockWireBytes(messageToBlock(await this.client.block(height))));
  }
}
