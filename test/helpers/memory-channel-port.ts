/**
 * ChannelPort over an in-memory channel (test/helpers/xfer-channels.ts): the coordinator's steps
 * run through the real rules and are sealed into real blocks. Faults a real participant shows
 * when its process is killed: `down` (unreachable: nothing applied) and `loseAnswers` (the step
 * is applied and durable, but the answer never arrives). `kill()` cuts a dead coordinator's port.
 */
import { blockWireBytes } from '../../relayer/ledger/block.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { readRecord } from '../../relayer/ledger/bridge-state.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import type { TxBodies } from '../../relayer/ledger/tx-bodies.ts';
import { xferKeys, type XferRecord } from '../../relayer/ledger/xfer-rules.ts';
import { migrationKeys, type MigrationRecord } from '../../relayer/ledger/migration-rules.ts';
import { ChannelUnreachable, type ChannelPort, type StepResult, type StepType } from '../../coordinator/channel-port.ts';
import type { ChainBuilder } from './chain-builder.ts';
import { NETWORK, type TestUser } from './channel.ts';

/** The channel itself, shared by every coordinator instance's port (its state outlives any process). */
export class MemoryChannel {
  loseAnswers = 0;
  private downUntil = 0;
  private nonce = 0n;
  constructor(
    readonly chain: ChainBuilder,
    readonly coordinator: TestUser,
  ) {}

  /** The channel's process is down for `ms` (overlapping outages extend each other). */
  outage(ms: number): void {
    this.downUntil = Math.max(this.downUntil, Date.now() + ms);
  }
  get down(): boolean {
    return Date.now() < this.downUntil;
  }

  apply<T extends StepType>(type: T, body: TxBodies[T]): StepResult {
    if (this.down) return { ok: false, code: 'UNREACHABLE', message: `${this.chain.channel} is down`, retriable: true };
    const tx = signTx({ network: NETWORK, channel: this.chain.channel, type, sender: this.coordinator.address, lane: 0, nonce: this.nonce, body }, this.coordinator.key);
    let result: StepResult;
    try {
      const block = this.chain.append(tx);
      this.nonce++;
      result = { ok: true, height: block.height };
    } catch (e) {
      if (!(e instanceof TxRejected)) throw e;
      result = { ok: false, code: e.code, message: e.message, retriable: false };
    }
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      return { ok: false, code: 'UNREACHABLE', message: 'the answer was lost', retriable: true };
    }
    return result;
  }

  read<T>(key: string): T | null {
    if (this.down) throw new ChannelUnreachable(this.chain.channel, 'down');
    return readRecord<T>(this.chain.state, key) ?? null;
  }
}

export class MemoryChannelPort implements ChannelPort {
  private dead = false;
  constructor(readonly ch: MemoryChannel) {}
  get channel(): string {
    return this.ch.chain.channel;
  }
  /** The coordinator process that owned this port died: nothing it still had in flight reaches the channel. */
  kill(): void {
    this.dead = true;
  }
  private async later(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (this.dead) throw new ChannelUnreachable(this.channel, 'the coordinator process is dead');
  }
  async step<T extends StepType>(type: T, body: TxBodies[T]): Promise<StepResult> {
    await this.later();
    return this.ch.apply(type, body);
  }
  async transfer(id: string): Promise<XferRecord | null> {
    await this.later();
    return this.ch.read<XferRecord>(xferKeys.transfer(id));
  }
  async migration(chain: string, eventId: string): Promise<MigrationRecord | null> {
    await this.later();
    return this.ch.read<MigrationRecord>(migrationKeys.migration(chain, eventId));
  }
  async openMigrations(chain: string): Promise<MigrationRecord[]> {
    await this.later();
    if (this.ch.down) throw new ChannelUnreachable(this.channel, 'down');
    const out: MigrationRecord[] = [];
    for (const [k] of this.ch.chain.state.entries) {
      if (!k.startsWith(`migration/${chain}/`)) continue;
      const m = this.ch.read<MigrationRecord>(k);
      if (m?.status === 'attested') out.push(m);
    }
    return out;
  }
  async blockWire(height: bigint): Promise<Uint8Array> {
    await this.later();
    if (this.ch.down) throw new ChannelUnreachable(this.channel, 'down');
    const b = this.ch.chain.blocks[Number(height)];
    if (!b) throw new ChannelUnreachable(this.channel, `no block ${height}`);
    return blockWireBytes(b);
  }
}
