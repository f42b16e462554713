/**
 * Where the submitter reads signed actions from. The real implementation reads the hub
 * ledger (actions co-signed by the processor after M approvals); tests use an in-memory
 * one. The source is the truth about WHAT to land; the chain counter says FROM WHERE.
 */
import type { SignedAction } from '../../adapters/chain-adapter.ts';

export interface SignedActionSource {
  /**
   * The consecutive signed actions of `chain` starting at `fromId`, at most `limit`,
   * stopping at the first id not signed yet (so [] when `fromId` itself is not signed).
   */
  signedActions(chain: string, fromId: bigint, limit: number): Promise<SignedAction[]>;
  /** Ids of `chain` that are signed but not settled yet (settled: listeners attested the execution). */
  pendingIds(chain: string): Promise<bigint[]>;
}
