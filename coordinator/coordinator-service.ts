/**
 * CoordinatorService: one coordinator instance. It waits for the coordinator lock (a PostgreSQL
 * advisory lock held on its own session: one active coordinator, any number of hot standbys),
 * then raises the epoch durably, recovers every transfer its log still holds, accepts signed
 * transfer requests, opens migrations for attested ERC20 KLX deposits, and answers the
 * participants' resolvers.
 */
import type pg from 'pg';
import { fromHex } from '../relayer/ledger/bytes.ts';
import { KlxError, TxRejected } from '../relayer/ledger/errors.ts';
import { decodeTx, verifyTxStatically, type SignedTx } from '../relayer/ledger/transaction.ts';
import { connectClient, createPool } from '../relayer/store/db.ts';
import { migrate } from '../relayer/store/migrate.ts';
import { CoordinatorLog, idText, type LogEntry } from './coordinator-log.ts';
import type { ChannelPort } from './channel-port.ts';
import { TransferCoordinator } from './transfer-coordinator.ts';

export interface CoordinatorServiceOptions {
  databaseUrl: string;
  schema: string;
  instance: string;
  network: string;
  addressPrefix: string;
  ports: ReadonlyMap<string, ChannelPort>;
  voteTimeoutMs: number;
  retryMs?: number;
  /** The migration this coordinator runs: attested deposits of `chain` on the bridge channel. */
  migration?: { chain: string; bridgeChannel: string };
  /** How often to look for newly attested migrations (ms). */
  discoveryMs?: number;
  crashPoint?: (point: string, id: string) => void;
}

export type Decision = 'commit' | 'abort' | 'pending';

const LOCK_KEY = 'klx-coordinator';
const TRANSFER_ID = /^([0-9]{1,19})\.([0-9]{1,19})$/;

export function parseTransferId(text: string): { epoch: bigint; seq: bigint } {
  const m = TRANSFER_ID.exec(text);
  if (!m?.[1] || !m[2]) throw new TxRejected('TX_MALFORMED', 'a transfer id is "epoch.seq"');
  return { epoch: BigInt(m[1]), seq: BigInt(m[2]) };
}

export class CoordinatorService {
  readonly pool: pg.Pool;
  readonly log: CoordinatorLog;
  coordinator: TransferCoordinator | null = null;
  private lockClient: pg.Client | null = null;
  private discovery: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: CoordinatorServiceOptions) {
    this.pool = createPool(o.databaseUrl, 12);
    this.log = new CoordinatorLog(this.pool, o.schema);
  }

  /** Waits for the coordinator lock, then takes over: new epoch, recovery. Resolves once active. */
  async start(onWaiting?: () => void): Promise<TransferCoordinator> {
    this.lockClient = await connectClient(this.o.databaseUrl);
    this.lockClient.on('error', () => undefined);
    let told = false;
    for (;;) {
      const { rows } = await this.lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`${LOCK_KEY}:${this.o.schema}`]);
      if (rows[0]?.ok) break;
      if (!told) onWaiting?.();
      told = true;
      if (this.stopped) throw new KlxError('STOPPED', 'stopped while waiting for the coordinator lock', false);
      await new Promise((r) => setTimeout(r, 250));
    }
    const c = await this.pool.connect();
    try {
      await migrate(c, this.o.schema);
    } finally {
      c.release();
    }
    const epoch = await this.log.startEpoch(this.o.instance);
    const coordinator = new TransferCoordinator({ log: this.log, ports: this.o.ports, epoch, voteTimeoutMs: this.o.voteTimeoutMs, retryMs: this.o.retryMs, crashPoint: this.o.crashPoint });
    this.coordinator = coordinator;
    for (const e of await this.log.entries()) void coordinator.drive(e, true).catch(() => undefined);
    if (this.o.migration) this.discovery = setInterval(() => void this.discoverMigrations().catch(() => undefined), this.o.discoveryMs ?? 500);
    return coordinator;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.discovery) clearInterval(this.discovery);
    this.coordinator?.stop();
    await this.coordinator?.idle().catch(() => undefined);
    await this.lockClient?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private active(): TransferCoordinator {
    if (!this.coordinator) throw new KlxError('NOT_ACTIVE', 'this coordinator is a standby', true);
    return this.coordinator;
  }

  /**
   * A sender's signed request (hex of an `xfer-request`): checked, then the initiation record is
   * forced before any participant hears of it. Returns the transfer id.
   */
  async begin(requestHex: string): Promise<string> {
    const coordinator = this.active();
    let req: SignedTx;
    try {
      req = decodeTx(fromHex(requestHex));
    } catch (e) {
      throw e instanceof KlxError ? e : new TxRejected('TX_MALFORMED', 'the request is not hex of a signed transaction');
    }
    if (req.type !== 'xfer-request') throw new TxRejected('TX_MALFORMED', `expected an xfer-request, got ${req.type}`);
    const r = req as SignedTx<'xfer-request'>;
    if (!this.o.ports.has(r.channel)) throw new TxRejected('UNKNOWN_CHANNEL', `this coordinator serves no channel "${r.channel}"`);
    if (!this.o.ports.has(r.body.to) || r.body.to === r.channel) throw new TxRejected('UNKNOWN_CHANNEL', `"${r.body.to}" is not another channel this coordinator serves`);
    verifyTxStatically(r, { network: this.o.network, channel: r.channel, addressPrefix: this.o.addressPrefix });
    const entry = await this.log.initiate(coordinator.epoch, {
      kind: 'xfer', source: r.channel, dest: r.body.to, asset: r.body.asset, amount: BigInt(r.body.amount), sender: r.sender, recipient: r.body.recipient, request: r.encoded, eventId: null,
    });
    if (!entry) throw new KlxError('INTERNAL', 'initiation refused', true);
    void coordinator.drive(entry).catch(() => undefined);
    return idText(entry);
  }

  /** Opens a migration for every attested deposit that has none yet. */
  async discoverMigrations(): Promise<number> {
    const m = this.o.migration;
    const coordinator = this.coordinator;
    if (!m || !coordinator) return 0;
    const port = this.o.ports.get(m.bridgeChannel);
    if (!port) return 0;
    let opened = 0;
    for (const rec of await port.openMigrations(m.chain)) {
      const entry = await this.log.initiate(coordinator.epoch, {
        kind: 'migration', source: m.chain, dest: m.bridgeChannel, asset: rec.hubAsset, amount: BigInt(rec.hubAmount), sender: rec.refundTo, recipient: rec.recipient, request: null, eventId: rec.eventId,
      });
      if (!entry) continue; // already in the log
      opened++;
      void coordinator.drive(entry).catch(() => undefined);
    }
    return opened;
  }

  /**
   * A participant's resolver asks about a transfer it prepared long ago. Presumed commit: an id
   * this coordinator issued and forgot was committed (it forgets aborts only after every
   * participant acknowledged them); an id it never issued is refused.
   */
  async inquire(channel: string, id: string, migration?: { chain: string; eventId: string }): Promise<Decision> {
    const coordinator = this.active();
    const { epoch, seq } = parseTransferId(id);
    const port = this.o.ports.get(channel);
    if (!port) throw new TxRejected('UNKNOWN_CHANNEL', `this coordinator serves no channel "${channel}"`);
    const entry = await this.log.entry(epoch, seq);
    if (entry) {
      if (coordinator.isDriving(id)) return 'pending';
      void coordinator.drive(entry, true).catch(() => undefined);
      return entry.state === 'committed' ? 'commit' : 'abort';
    }
    if (!(await this.log.wasIssued(epoch, seq))) throw new KlxError('NEVER_ISSUED', `transfer ${id} was never issued by this coordinator`, false);
    const forgotten = await this.forgottenEntry(port, id, epoch, seq, migration);
    await coordinator.commitAt(forgotten, channel);
    await this.log.note({ epoch, seq }, 'presumed commit', `answered ${channel}'s inquiry`);
    return 'commit';
  }

  private async forgottenEntry(port: ChannelPort, id: string, epoch: bigint, seq: bigint, migration?: { chain: string; eventId: string }): Promise<Pick<LogEntry, 'epoch' | 'seq' | 'kind' | 'source' | 'dest' | 'eventId'>> {
    if (migration) return { epoch, seq, kind: 'migration', source: migration.chain, dest: port.channel, eventId: migration.eventId };
    const rec = await port.transfer(id);
    if (!rec?.side) throw new KlxError('NOT_PREPARED', `${port.channel} holds no prepared transfer ${id}`, false);
    return rec.side === 'source'
      ? { epoch, seq, kind: 'xfer', source: port.channel, dest: rec.peer, eventId: null }
      : { epoch, seq, kind: 'xfer', source: rec.peer, dest: port.channel, eventId: null };
  }

  /** Everything known about a transfer: the log entry (while the coordinator remembers it), its history and each participant's record. */
  async status(id: string): Promise<Record<string, unknown>> {
    const { epoch, seq } = parseTransferId(id);
    const [entry, history, issued] = await Promise.all([this.log.entry(epoch, seq), this.log.history(epoch, seq), this.log.wasIssued(epoch, seq)]);
    if (!issued) throw new KlxError('NEVER_ISSUED', `transfer ${id} was never issued by this coordinator`, false);
    const participants: Record<string, unknown> = {};
    for (const [name, port] of this.o.ports) participants[name] = await port.transfer(id).catch((e: unknown) => ({ error: (e as Error).message }));
    const coordinatorState = entry ? entry.state : history.some((h) => h.step === 'forgotten') ? 'forgotten' : 'forgotten (presumed commit)';
    return {
      id,
      coordinator: coordinatorState,
      ...(entry ? { kind: entry.kind, source: entry.source, dest: entry.dest, asset: entry.asset, amount: entry.amount.toString(), sender: entry.sender, recipient: entry.recipient } : {}),
      history,
      participants,
    };
  }
}
