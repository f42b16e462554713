/**
 * Typed errors. Every error the bridge raises on purpose carries a stable `code`
 * (part of the API: clients switch on it) and a `retriable` flag (queues and clients
 * retry only what is marked retriable; everything else is a clear, final failure).
 * Messages never contain secrets.
 */
export type RejectionCode =
  | 'TX_MALFORMED'
  | 'TX_TOO_LARGE'
  | 'BAD_SIGNATURE'
  | 'WRONG_NETWORK'
  | 'WRONG_CHANNEL'
  | 'UNKNOWN_TX_TYPE'
  | 'NONCE_MISMATCH'
  | 'UNKNOWN_ASSET'
  | 'BAD_AMOUNT'
  | 'AMOUNT_OVERFLOW'
  | 'BAD_ADDRESS'
  | 'UNKNOWN_ADDRESS'
  | 'UNKNOWN_ACCOUNT'
  | 'INSUFFICIENT_BALANCE'
  | 'NOT_AUTHORIZED'
  | 'BAD_QUORUM'
  | 'BAD_CHAIN_ADDRESS'
  | 'UNSUPPORTED_CHAIN_FAMILY'
  | 'UNKNOWN_CHAIN'
  | 'CHAIN_EXISTS'
  | 'CHAIN_HALTED'
  | 'UNSUPPORTED_ASSET'
  | 'UNREPRESENTABLE_AMOUNT'
  | 'INSUFFICIENT_CUSTODY'
  | 'WRONG_CUSTODY'
  | 'CONFLICTING_ATTESTATION'
  | 'EVENT_TOO_FAR_AHEAD'
  | 'UNKNOWN_ACTION'
  | 'ACTION_NOT_PENDING'
  | 'PAYLOAD_MISMATCH'
  | 'QUORUM_NOT_REACHED'
  | 'NOTHING_TO_CLAIM'
  | 'NOTHING_TO_RETURN'
  | 'ALREADY_VOTED'
  | 'BAD_PROOF'
  | 'ALREADY_OVERRIDDEN'
  | 'OVERRIDE_UNSUPPORTED'
  | 'OVERRIDE_EXISTS'
  | 'NO_OVERRIDE'
  | 'ALREADY_CONFIRMED'
  | 'REPLACEMENT_CHANGES_ASSET'
  | 'REPLACEMENT_RAISES_AMOUNT'
  | 'OWNER_CONSENT_REQUIRED'
  | 'NOT_OWNER'
  | 'NOT_PENDING'
  | 'NOT_A_TRANSACTION'
  | 'UNKNOWN_CHANNEL'
  | 'REQUEST_USED'
  | 'TRANSFER_ABORTED'
  | 'TRANSFER_ID_USED'
  | 'ALREADY_PREPARED'
  | 'NOT_PREPARED'
  | 'ALREADY_COMMITTED'
  | 'ALREADY_ABORTED'
  | 'TRANSFER_LIMIT'
  | 'MIGRATION_CAP'
  | 'MIGRATION_LIMIT'
  | 'NO_MIGRATION';

export class KlxError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    readonly details: Record<string, string | number | boolean> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): { code: string; message: string; retriable: boolean; details: Record<string, string | number | boolean> } {
    return { code: this.code, message: this.message, retriable: this.retriable, details: this.details };
  }
}

/** A transaction the ledger refuses: nothing was recorded, no nonce consumed. Never retriable as-is. */
export class TxRejected extends KlxError {
  constructor(code: RejectionCode, message: string, details: Record<string, string | number | boolean> = {}) {
    super(code, message, false, details);
  }
}

/** This node is not (or no longer) the channel's block producer. Retry on another node. */
export class NotLeaderError extends KlxError {
  constructor(channel: string, message = `this node is not the block producer of channel ${channel}`) {
    super('NOT_LEADER', message, true, { channel });
  }
}

/** A block that does not verify (follower, audit). Names the height and the reason. */
export class BlockVerificationError extends KlxError {
  constructor(
    readonly height: bigint,
    readonly reason: string,
    message: string,
  ) {
    super('BLOCK_INVALID', `block ${height}: ${message}`, false, { height: height.toString(), reason });
  }
}

/** A stored record that disagrees with what replay derives (audit). */
export class AuditMismatchError extends KlxError {
  constructor(
    readonly height: bigint,
    readonly reason: string,
    message: string,
  ) {
    super('AUDIT_MISMATCH', `height ${height}: ${message}`, false, { height: height.toString(), reason });
  }
}

export class ConfigError extends KlxError {
  constructor(message: string) {
    super('CONFIG_INVALID', message, false);
  }
}
