/**
 * ChainVerifier: checks a block the way every independent party must — structure,
 * height, parent hash, timestamp, rules version, producer signature, the sender's
 * signature and nonce, and re-execution to the same state commitment — then applies
 * it. Used by the verifying follower and by `audit`; never trusts the producer's word.
 */
import { bytesEqual, toHex } from './bytes.ts';
import { BlockVerificationError, TxRejected } from './errors.ts';
import { MAX_BLOCK_BYTES, blockWireSize, headOf, verifyBlockSignature, type Block } from './block.ts';
import { executeTx, SUPPORTED_RULES_VERSIONS } from './rules.ts';
import { LedgerState, nextCommitment, type StateChange } from './state.ts';
import { verifyTxStatically } from './transaction.ts';

export interface ChainIdentity {
  network: string;
  channel: string;
  addressPrefix: string;
  /** Pinned producer key: the genesis must name it. Optional for audit (taken from genesis). */
  producer?: Uint8Array;
  /** Pinned genesis content (assets, allocations, timestamp): block 0 must carry exactly this. */
  genesis?: { timestampMs: bigint; assets: readonly { id: string; decimals: number }[]; allocations: readonly { address: string; asset: string; amount: bigint }[] };
  /** How far in the future a block's timestamp may be (default 10 minutes). */
  maxFutureDriftMs?: number;
}

export const DEFAULT_MAX_FUTURE_DRIFT_MS = 10 * 60 * 1000;

function sameGenesis(block: Block, pinned: NonNullable<ChainIdentity['genesis']>): boolean {
  const g = block.tx.body as { assets: { id: string; decimals: number }[]; allocations: { address: string; asset: string; amount: bigint }[] };
  const key = (x: { assets: readonly { id: string; decimals: number }[]; allocations: readonly { address: string; asset: string; amount: bigint }[] }) =>
    JSON.stringify([x.assets.map((a) => [a.id, a.decimals]), x.allocations.map((a) => [a.address, a.asset, a.amount.toString()])]);
  return block.timestampMs === pinned.timestampMs && key(g) === key(pinned);
}

export class ChainVerifier {
  constructor(
    readonly identity: ChainIdentity,
    readonly state: LedgerState = new LedgerState(),
  ) {}

  /** Verifies `block` as the next block and applies it. Throws BlockVerificationError naming the reason. */
  verifyAndApply(block: Block): StateChange[] {
    const changes = this.verify(block);
    this.state.apply(changes);
    this.state.advance(headOf(block));
    return changes;
  }

  verify(block: Block): StateChange[] {
    const { state, identity } = this;
    const fail = (reason: string, message: string): never => {
      throw new BlockVerificationError(block.height, reason, message);
    };
    if (block.network !== identity.network || block.channel !== identity.channel) {
      fail('wrong-chain', `block is for ${block.network}/${block.channel}, expected ${identity.network}/${identity.channel}`);
    }
    if (blockWireSize(block.body.length, block.signature.length) > MAX_BLOCK_BYTES) fail('too-large', 'block exceeds 16 KiB');
    const expectedHeight = state.head.height + 1n;
    if (block.height !== expectedHeight) fail('height', `expected height ${expectedHeight}`);
    if (!bytesEqual(block.prevHash, state.head.hash)) {
      fail('parent-hash', `previous hash ${toHex(block.prevHash)} does not match ${toHex(state.head.hash)}`);
    }
    if (block.timestampMs < state.head.timestampMs) fail('timestamp', 'timestamp goes backwards');
    const maxDrift = this.identity.maxFutureDriftMs ?? DEFAULT_MAX_FUTURE_DRIFT_MS;
    if (block.timestampMs > BigInt(Date.now()) + BigInt(maxDrift)) fail('timestamp', `timestamp is more than ${maxDrift} ms in the future`);
    if (!SUPPORTED_RULES_VERSIONS.has(block.rulesVersion)) fail('rules-version', `unsupported rules version ${block.rulesVersion}`);
    if (block.rulesVersion < state.head.rulesVersion) fail('rules-version', `rules version ${block.rulesVersion} after ${state.head.rulesVersion}`);

    let producer = state.producer;
    if (block.height === 0n) {
      if (block.tx.type !== 'genesis') fail('genesis', 'the first block must carry the genesis transaction');
      producer = (block.tx.body as { producer: Uint8Array }).producer;
      if (identity.producer && !bytesEqual(identity.producer, producer)) {
        fail('producer', 'genesis names a producer other than the pinned one');
      }
      if (identity.genesis && !sameGenesis(block, identity.genesis)) fail('genesis', 'genesis content differs from the pinned genesis');
    }
    if (!producer || !verifyBlockSignature(block, producer)) fail('signature', 'producer signature does not verify');

    let changes: StateChange[] = [];
    try {
      verifyTxStatically(block.tx, identity);
      changes = executeTx(state, block.tx, block.rulesVersion);
    } catch (e) {
      if (e instanceof TxRejected) fail('transaction', `transaction is invalid (${e.code}): ${e.message}`);
      throw e;
    }
    const commitment = nextCommitment(state.head.commitment, block.height, changes);
    if (!bytesEqual(commitment, block.stateCommitment)) {
      fail('state-commitment', `state commitment ${toHex(block.stateCommitment)} differs from re-execution ${toHex(commitment)}`);
    }
    return changes;
  }
}
