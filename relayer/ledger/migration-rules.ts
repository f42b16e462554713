/**
 * The ERC20 → native KLX migration (DESIGN.md section 3; ADR 0017), the bridge channel's side.
 *
 * Once the producer configures a chain's asset for migration (`migration-config`), a deposit of
 * it attested by L listeners is not credited: it opens `migration/<chain>/<eventId>` (the chain
 * side's yes vote, which only the listener quorum can cast), its amount reserved in custody.
 * The coordinator then runs the two-phase commit on this channel:
 * - `migrate-prepare`: the channel votes yes only if the mint fits the supply cap and the
 *   limits (per transfer, per rolling 24 h of block time) and the recipient is usable;
 * - `migrate-commit`: mints native units to the recipient;
 * - `migrate-abort`: a refund action pays the deposit back to its refund address; the
 *   migration keeps a permanent tombstone.
 * The reverse path is an ordinary withdrawal of the asset to that chain: the hub balance is
 * debited (native units leave circulation) and custody releases the ERC20.
 * Native units outstanding from migration are always `held − pendingOut − waiting` of the
 * chain's custody: what custody holds for the hub and has not promised to anyone else.
 */
import { MAX_U128, toHex } from './bytes.ts';
import { TxRejected } from './errors.ts';
import { chainOf, createAction, isUsableRecipient, custodyOf, producerAddress, reserveCustody, setCustody } from './bridge-accounts.ts';
import { CHAIN_FAMILY_RULES } from './chain-families.ts';
import { transferIdText, XFER_BODY_CODECS, type MigrationConfigBody } from './xfer-bodies.ts';
import type { SignedTx } from './transaction.ts';
import type { DepositAttestation } from './bridge-bodies.ts';
import { keys, type ChainRecord, type EventRecord, type PendingFifo, type StateOverlay } from './bridge-state.ts';

export interface MigrationRecord {
  chain: string;
  eventId: string;
  hubAsset: string;
  hubAmount: string;
  chainAsset: string;
  chainAmount: string;
  recipient: string;
  refundTo: string;
  txHash: string;
  /** attested (the chain side's yes) → prepared (the channel's yes) → committed, or aborted. */
  status: 'attested' | 'prepared' | 'committed' | 'aborted';
  /** The coordinator's transfer id, from the prepare on. */
  id: string | null;
  /** Hour (block time) whose 24 h window counts this migration, from the prepare on. */
  windowHour: string | null;
  refundAction: string | null;
}

/** Native supply accounting of a migrated asset. */
export interface MigrationSupply {
  /** Native units minted by committed migrations, ever. */
  minted: string;
  /** Reserved by prepared, undecided migrations. */
  reserved: string;
}

export const migrationKeys = {
  config: (chain: string) => `migration-config/${chain}`,
  migration: (chain: string, eventId: string) => `migration/${chain}/${eventId}`,
  supply: (chain: string) => `migration-supply/${chain}`,
  window: (chain: string) => `migration-window/${chain}`,
};

const HOUR_MS = 3_600_000n;

export function configureMigration(o: StateOverlay, tx: SignedTx<'migration-config'>): void {
  if (tx.sender !== producerAddress(o.base)) throw new TxRejected('NOT_AUTHORIZED', 'only the channel producer configures migrations');
  XFER_BODY_CODECS['migration-config'].check(tx.body, { addressPrefix: o.base.addressPrefix ?? '' }); // also when replayed without the static checks
  const { rec } = chainOf(o, tx.body.chain);
  const mapping = rec.assets.find((a) => a.hubAsset === tx.body.hubAsset);
  if (mapping?.mode !== 'lock') throw new TxRejected('UNSUPPORTED_ASSET', `${tx.body.hubAsset} is not a lock-mode asset of ${tx.body.chain}`);
  o.set(migrationKeys.config(tx.body.chain), tx.body);
  if (!o.get(migrationKeys.supply(tx.body.chain))) o.set(migrationKeys.supply(tx.body.chain), { minted: '0', reserved: '0' } satisfies MigrationSupply);
}

/** Called for a credited-looking deposit: opens a migration instead when its asset migrates. Returns null otherwise. */
export function openMigration(o: StateOverlay, rec: ChainRecord, d: DepositAttestation, hubAsset: string, hubAmount: bigint): EventRecord | null {
  const cfg = o.get<MigrationConfigBody>(migrationKeys.config(rec.chain));
  if (cfg?.hubAsset !== hubAsset) return null;
  reserveCustody(o, rec.chain, hubAsset, 'lock', hubAmount);
  o.set(migrationKeys.migration(rec.chain, d.eventId), {
    chain: rec.chain, eventId: d.eventId, hubAsset, hubAmount: hubAmount.toString(), chainAsset: d.asset, chainAmount: d.amount,
    recipient: d.recipient, refundTo: d.refundTo, txHash: d.txHash, status: 'attested', id: null, windowHour: null, refundAction: null,
  } satisfies MigrationRecord);
  return { eventId: d.eventId, kind: 'deposit', txHash: d.txHash, index: d.index, outcome: 'migration', detail: 'opened a migration' };
}

/** Native units of the migrated asset outstanding because of migration (custody held for the hub, not promised elsewhere). */
export function nativeFromMigration(o: StateOverlay, chain: string, hubAsset: string): bigint {
  const c = custodyOf(o, chain, hubAsset);
  const fifo = o.get<PendingFifo>(keys.fifo(chain, hubAsset));
  return c.held - c.pendingOut - BigInt(fifo?.waitingAmount ?? '0');
}

function step(o: StateOverlay, tx: SignedTx<'migrate-prepare' | 'migrate-commit' | 'migrate-abort'>): { cfg: MigrationConfigBody; m: MigrationRecord; id: string } {
  const b = tx.body;
  const cfg = o.get<MigrationConfigBody>(migrationKeys.config(b.chain));
  if (!cfg) throw new TxRejected('NO_MIGRATION', `${b.chain} has no migration configured`);
  if (tx.sender !== cfg.coordinator) throw new TxRejected('NOT_AUTHORIZED', 'only the configured coordinator drives migrations');
  const m = o.get<MigrationRecord>(migrationKeys.migration(b.chain, b.eventId));
  if (!m) throw new TxRejected('NO_MIGRATION', `no attested deposit ${b.eventId} of ${b.chain} opened a migration`);
  const id = transferIdText(b.id);
  if (m.status === 'aborted') throw new TxRejected(tx.type === 'migrate-abort' ? 'ALREADY_ABORTED' : 'TRANSFER_ABORTED', `migration ${b.chain}/${b.eventId} was aborted`);
  if (m.status === 'committed') throw new TxRejected('ALREADY_COMMITTED', `migration ${b.chain}/${b.eventId} is committed`);
  if (m.id !== null && m.id !== id) throw new TxRejected('TRANSFER_ID_USED', `migration ${b.chain}/${b.eventId} runs as transfer ${m.id}`);
  return { cfg, m, id };
}

function windowOf(o: StateOverlay, chain: string, nowHour: bigint): Record<string, string> {
  const w = o.get<{ hours: Record<string, string> }>(migrationKeys.window(chain))?.hours ?? {};
  return Object.fromEntries(Object.entries(w).filter(([h]) => BigInt(h) > nowHour - 24n));
}

export function prepareMigration(o: StateOverlay, tx: SignedTx<'migrate-prepare'>): void {
  const { cfg, m, id } = step(o, tx);
  if (m.status === 'prepared') throw new TxRejected('ALREADY_PREPARED', `migration ${m.chain}/${m.eventId} is already prepared`);
  const amount = BigInt(m.hubAmount);
  if (!isUsableRecipient(o, m.recipient)) throw new TxRejected('BAD_ADDRESS', 'the deposit names no usable hub recipient');
  if (o.balance(m.recipient, m.hubAsset) + amount > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', "the recipient's balance would exceed u128");
  if (amount > BigInt(cfg.perTransfer)) throw new TxRejected('MIGRATION_LIMIT', `${amount} exceeds the limit of ${cfg.perTransfer} per migration`);
  const hour = o.base.head.timestampMs / HOUR_MS;
  const hours = windowOf(o, m.chain, hour);
  const inWindow = Object.values(hours).reduce((s, v) => s + BigInt(v), 0n);
  if (inWindow + amount > BigInt(cfg.per24h)) throw new TxRejected('MIGRATION_LIMIT', `${inWindow} already migrated in the last 24 h; ${amount} more exceeds ${cfg.per24h}`);
  const supply = o.get<MigrationSupply>(migrationKeys.supply(m.chain)) ?? { minted: '0', reserved: '0' };
  const outstanding = BigInt(cfg.premint) + nativeFromMigration(o, m.chain, m.hubAsset) + BigInt(supply.reserved);
  if (outstanding + amount > BigInt(cfg.cap)) throw new TxRejected('MIGRATION_CAP', `minting ${amount} would take the supply to ${outstanding + amount}, over the cap of ${cfg.cap}`);
  hours[hour.toString()] = (BigInt(hours[hour.toString()] ?? '0') + amount).toString();
  o.set(migrationKeys.window(m.chain), { hours });
  o.set(migrationKeys.supply(m.chain), { ...supply, reserved: (BigInt(supply.reserved) + amount).toString() } satisfies MigrationSupply);
  o.set(migrationKeys.migration(m.chain, m.eventId), { ...m, status: 'prepared', id, windowHour: hour.toString() } satisfies MigrationRecord);
}

export function commitMigration(o: StateOverlay, tx: SignedTx<'migrate-commit'>): void {
  const { m } = step(o, tx);
  if (m.status !== 'prepared') throw new TxRejected('NOT_PREPARED', `migration ${m.chain}/${m.eventId} is not prepared`);
  const amount = BigInt(m.hubAmount);
  const supply = o.get<MigrationSupply>(migrationKeys.supply(m.chain)) ?? { minted: '0', reserved: '0' };
  o.setBalance(m.recipient, m.hubAsset, o.balance(m.recipient, m.hubAsset) + amount);
  o.set(migrationKeys.supply(m.chain), { minted: (BigInt(supply.minted) + amount).toString(), reserved: (BigInt(supply.reserved) - amount).toString() } satisfies MigrationSupply);
  // The ERC20 now backs native units in circulation: no longer reserved.
  const c = custodyOf(o, m.chain, m.hubAsset);
  setCustody(o, m.chain, m.hubAsset, { held: c.held, pendingOut: c.pendingOut - amount });
  o.set(migrationKeys.migration(m.chain, m.eventId), { ...m, status: 'committed' } satisfies MigrationRecord);
  const event = o.get<EventRecord>(keys.event(m.chain, m.eventId));
  if (event) o.set(keys.event(m.chain, m.eventId), { ...event, detail: `migrated to ${m.recipient}` } satisfies EventRecord);
}

export function abortMigration(o: StateOverlay, tx: SignedTx<'migrate-abort'>): void {
  const { m, id } = step(o, tx);
  const { rec } = chainOf(o, m.chain);
  const amount = BigInt(m.hubAmount);
  if (m.status === 'prepared') {
    const supply = o.get<MigrationSupply>(migrationKeys.supply(m.chain)) ?? { minted: '0', reserved: '0' };
    o.set(migrationKeys.supply(m.chain), { ...supply, reserved: (BigInt(supply.reserved) - amount).toString() } satisfies MigrationSupply);
    const hours = o.get<{ hours: Record<string, string> }>(migrationKeys.window(m.chain))?.hours ?? {};
    const h = m.windowHour ?? '';
    if (hours[h] !== undefined) o.set(migrationKeys.window(m.chain), { hours: { ...hours, [h]: (BigInt(hours[h]) - amount).toString() } });
  }
  // The custody reservation made when the deposit was attested now backs the refund action.
  const refundTo = CHAIN_FAMILY_RULES[rec.family].canonicalRecipient(m.refundTo);
  const actionId = createAction(o, m.chain, {
    kind: 'release', owner: null, hubAsset: m.hubAsset, hubAmount: m.hubAmount, chainAsset: m.chainAsset, recipient: refundTo,
    chainAmount: m.chainAmount, withdrawTx: toHex(tx.id), returnOf: { source: 'migration', eventId: m.eventId },
  });
  o.set(migrationKeys.migration(m.chain, m.eventId), { ...m, status: 'aborted', id, refundAction: actionId.toString() } satisfies MigrationRecord);
  const event = o.get<EventRecord>(keys.event(m.chain, m.eventId));
  if (event) o.set(keys.event(m.chain, m.eventId), { ...event, detail: `returned to ${refundTo} as action ${actionId}` } satisfies EventRecord);
}
