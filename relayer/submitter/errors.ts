/** Errors the submitter raises itself; chain errors come from the adapter (ChainRpcError). */
import { KlxError } from '../ledger/errors.ts';

export type SubmitterErrorCode =
  /** The next id to execute is not signed yet: wait for the signers. */
  | 'ACTION_NOT_SIGNED'
  /** Another lander (process) holds a pending transaction for the chain. */
  | 'SUBMISSION_PENDING'
  /** A transaction was not included within the polling bound; it is resolved on retry. */
  | 'SUBMISSION_TIMEOUT'
  /** The chain reverted the transaction and the ids are still not executed. */
  | 'SUBMISSION_REVERTED'
  /** The chain included a transaction but its counter did not move. */
  | 'NO_PROGRESS'
  /** prepareSubmission returned bytes that are already recorded as final. */
  | 'SUBMISSION_DUPLICATE'
  /** A recent failure on this chain: submissions pause for a backoff period. */
  | 'CHAIN_HELD';

/** Retriable unless stated: each is a reason to wait, never a reason to skip an id. */
export class SubmitterError extends KlxError {
  constructor(code: SubmitterErrorCode, message: string, details: Record<string, string | number | boolean> = {}, retriable = true) {
    super(code, message, retriable, details);
  }
}

/** Codes that only mean "waiting for something else": they do not count as chain failures. */
export const WAITING_CODES: ReadonlySet<string> = new Set(['ACTION_NOT_SIGNED', 'SUBMISSION_PENDING', 'SUBMISSION_TIMEOUT', 'CHAIN_HELD']);

/** Any thrown value as a KlxError; unknown errors (database, bugs) are retriable so the queue holds rather than skips. */
export function asKlxError(e: unknown): KlxError {
  if (e instanceof KlxError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new KlxError('SUBMITTER_INTERNAL', message, true);
}
