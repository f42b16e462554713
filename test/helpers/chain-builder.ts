/** Builds a channel's blocks in memory exactly as a processor would, so tests can forge variations. */
import { headOf, sealBlock, type Block, type BlockHeader } from '../../relayer/ledger/block.ts';
import type { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { executeTx, RULES_VERSION } from '../../relayer/ledger/rules.ts';
import { LedgerState, nextCommitment } from '../../relayer/ledger/state.ts';
import type { SignedTx } from '../../relayer/ledger/transaction.ts';
import { buildGenesis, type GenesisSpec } from '../../relayer/processor/genesis.ts';
import { context } from './channel.ts';

export class ChainBuilder {
  readonly state = new LedgerState();
  readonly blocks: Block[] = [];
  private skipMs = 0n;

  constructor(
    readonly producer: Ed25519Signer,
    genesis: GenesisSpec,
    readonly channel = 'bridge',
  ) {
    const g = buildGenesis(context(channel), genesis, producer);
    this.accept(g.block, g.changes);
  }

  /** The header the next block would have for `tx` (valid unless the caller alters it). */
  nextHeader(tx: SignedTx): { header: BlockHeader; changes: ReturnType<typeof executeTx> } {
    const changes = executeTx(this.state, tx);
    const head = this.state.head;
    const height = head.height + 1n;
    return {
      changes,
      header: {
        network: 'devnet',
        channel: this.channel,
        height,
        prevHash: head.hash,
        timestampMs: head.timestampMs + 1n + this.skipMs,
        rulesVersion: RULES_VERSION,
        stateCommitment: nextCommitment(head.commitment, height, changes),
      },
    };
  }

  /** The next block's timestamp is `ms` later than it would be (time passing between blocks). */
  advanceClock(ms: bigint): void {
    this.skipMs = ms;
  }

  append(tx: SignedTx): Block {
    const { header, changes } = this.nextHeader(tx);
    this.skipMs = 0n;
    const block = sealBlock(header, tx, this.producer);
    this.accept(block, changes);
    return block;
  }

  private accept(block: Block, changes: ReturnType<typeof executeTx>): void {
    this.state.apply(changes);
    this.state.advance(headOf(block));
    this.blocks.push(block);
  }
}
