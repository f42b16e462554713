/** Events of the submitter (ActionLander and ActionQueue); observability subscribes. */
export interface SubmissionEvent {
  chain: string;
  txHash: string;
  firstId: bigint;
  lastId: bigint;
}

export interface SubmitterEvents {
  /** A new transaction was recorded and broadcast. */
  submitted: SubmissionEvent & { nonce: bigint | null };
  /** The same recorded bytes were sent again (the chain did not know them). */
  rebroadcast: SubmissionEvent;
  landed: SubmissionEvent;
  reverted: SubmissionEvent;
  /** The record can never be included (replaced at its nonce, or refused by the chain). */
  dropped: SubmissionEvent & { reason: string };
  /** A job failed with a retriable error; BullMQ retries it with backoff. */
  retry: { chain: string; actionId: bigint; code: string; message: string; attempt: number };
  /** A job failed for good (non-retriable error): an operator has to act. */
  failed: { chain: string; actionId: bigint; code: string; message: string };
  reconciled: { chain: string; enqueued: number };
  /** Redis or reconcile trouble; the queue keeps trying. */
  'queue-error': { chain: string; message: string };
}
