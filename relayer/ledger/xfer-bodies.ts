/**
 * Bodies of the inter-channel transfer and migration transaction types (DESIGN.md section 3;
 * docs/hub-encoding.md, "Inter-channel transfers"). Canonical JSON like the other bridge bodies.
 *
 * - `channel-link` (the channel's producer): which peer channel, its producer key, the
 *   coordinator's hub address and the largest transfer this channel accepts from it.
 * - `xfer-request` is never executed: the sender signs it for the source channel and hands it to
 *   the coordinator, and both participants check that signature inside `xfer-prepare`.
 * - `xfer-prepare`, `xfer-commit`, `xfer-abort` (the coordinator): the participant steps.
 * - `migration-config` (the producer), `migrate-prepare`, `migrate-commit`, `migrate-abort`
 *   (the coordinator): the ERC20 → native KLX migration of one chain's asset.
 */
import { z } from 'zod';
import { MAX_U128 } from './bytes.ts';
import { TxRejected } from './errors.ts';
import { decodeAddress } from './address.ts';
import { chainName, hubAsset, jsonCodec, u64, uint } from './bridge-bodies.ts';

/** A coordinator-issued transfer id: (epoch, sequence). */
export const transferIdSchema = z.strictObject({ epoch: u64, seq: u64 });
export type TransferId = z.infer<typeof transferIdSchema>;
export const transferIdText = (id: TransferId): string => `${id.epoch}.${id.seq}`;

/** Signed hub transaction or block bytes, hex, at most 6,000 bytes. */
const wireHex = z.string().regex(/^([0-9a-f]{2}){1,6000}$/, 'lowercase hex bytes, at most 6,000');
const hex32 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters');

export const channelLinkSchema = z.strictObject({
  peer: chainName,
  peerProducer: hex32,
  coordinator: z.string().min(1).max(64),
  /** The largest amount (base units, any asset) this channel accepts in one incoming transfer. */
  maxAmount: uint,
});
export const xferRequestSchema = z.strictObject({
  to: chainName,
  recipient: z.string().min(1).max(64),
  asset: hubAsset,
  amount: uint,
});
export const xferPrepareSchema = z.strictObject({ id: transferIdSchema, side: z.enum(['source', 'dest']), request: wireHex });
export const xferCommitSchema = z.strictObject({ id: transferIdSchema, proof: wireHex });
export const xferAbortSchema = z.strictObject({ id: transferIdSchema, peer: chainName, proof: wireHex.optional() });

export const migrationConfigSchema = z.strictObject({
  chain: chainName,
  hubAsset,
  coordinator: z.string().min(1).max(64),
  /** All native units of the asset ever minted, less what was returned, never exceed this. */
  cap: uint,
  /** Native units that exist outside migration (genesis allocations on every channel). */
  premint: uint,
  perTransfer: uint,
  per24h: uint,
});
const migrationRef = { chain: chainName, eventId: u64, id: transferIdSchema };
export const migratePrepareSchema = z.strictObject(migrationRef);
export const migrateCommitSchema = z.strictObject(migrationRef);
export const migrateAbortSchema = z.strictObject(migrationRef);

export type ChannelLinkBody = z.infer<typeof channelLinkSchema>;
export type XferRequestBody = z.infer<typeof xferRequestSchema>;
export type XferPrepareBody = z.infer<typeof xferPrepareSchema>;
export type XferCommitBody = z.infer<typeof xferCommitSchema>;
export type XferAbortBody = z.infer<typeof xferAbortSchema>;
export type MigrationConfigBody = z.infer<typeof migrationConfigSchema>;
export type MigrationStepBody = z.infer<typeof migratePrepareSchema>;

function positive(amount: string, what: string): void {
  const v = BigInt(amount);
  if (v <= 0n) throw new TxRejected('BAD_AMOUNT', `${what} must be greater than zero`);
  if (v > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', `${what} exceeds u128`);
}

export const XFER_BODY_CODECS = {
  'channel-link': jsonCodec('channel-link', channelLinkSchema, (b, ctx) => {
    decodeAddress(b.coordinator, ctx.addressPrefix);
    positive(b.maxAmount, 'maxAmount');
  }),
  'xfer-request': jsonCodec('xfer-request', xferRequestSchema, (b, ctx) => {
    decodeAddress(b.recipient, ctx.addressPrefix);
    positive(b.amount, 'amount');
  }),
  'xfer-prepare': jsonCodec('xfer-prepare', xferPrepareSchema),
  'xfer-commit': jsonCodec('xfer-commit', xferCommitSchema),
  'xfer-abort': jsonCodec('xfer-abort', xferAbortSchema),
  'migration-config': jsonCodec('migration-config', migrationConfigSchema, (b, ctx) => {
    decodeAddress(b.coordinator, ctx.addressPrefix);
    for (const [k, v] of [['cap', b.cap], ['perTransfer', b.perTransfer], ['per24h', b.per24h]] as const) positive(v, k);
    if (BigInt(b.premint) > BigInt(b.cap)) throw new TxRejected('BAD_AMOUNT', 'premint exceeds the cap');
  }),
  'migrate-prepare': jsonCodec('migrate-prepare', migratePrepareSchema),
  'migrate-commit': jsonCodec('migrate-commit', migrateCommitSchema),
  'migrate-abort': jsonCodec('migrate-abort', migrateAbortSchema),
};

export interface XferTxBodies {
  'channel-link': ChannelLinkBody;
  'xfer-request': XferRequestBody;
  'xfer-prepare': XferPrepareBody;
  'xfer-commit': XferCommitBody;
  'xfer-abort': XferAbortBody;
  'migration-config': MigrationConfigBody;
  'migrate-prepare': MigrationStepBody;
  'migrate-commit': MigrationStepBody;
  'migrate-abort': MigrationStepBody;
}
