/** The genesis block of a channel, derived deterministically from configuration. */
import { addressFromPublicKey } from '../ledger/address.ts';
import { MAX_BLOCK_BYTES, blockWireSize, sealBlock, type Block } from '../ledger/block.ts';
import { TxRejected } from '../ledger/errors.ts';
import type { Ed25519Signer } from '../ledger/keys.ts';
import { RULES_VERSION } from '../ledger/rules.ts';
import { LedgerState, nextCommitment, ZERO_HASH, type StateChange } from '../ledger/state.ts';
import { checkTxStructure, signTx, type ChannelContext } from '../ledger/transaction.ts';
import { executeTx } from '../ledger/rules.ts';
import { TX_BODY_CODECS, type AssetSpec } from '../ledger/tx-bodies.ts';

export interface GenesisSpec {
  timestampMs: bigint;
  assets: AssetSpec[];
  allocations: { address: string; asset: string; amount: bigint }[];
}

export function buildGenesis(ctx: ChannelContext, spec: GenesisSpec, producer: Ed25519Signer): { block: Block; changes: StateChange[] } {
  const body = { producer: producer.publicKey, addressPrefix: ctx.addressPrefix, assets: spec.assets, allocations: spec.allocations };
  TX_BODY_CODECS.genesis.check(body, ctx);
  const tx = signTx(
    { network: ctx.network, channel: ctx.channel, type: 'genesis', sender: addressFromPublicKey(ctx.addressPrefix, producer.publicKey), lane: 0, nonce: 0n, body },
    producer,
  );
  const changes = executeTx(new LedgerState(), tx);
  const header = {
    network: ctx.network,
    channel: ctx.channel,
    height: 0n,
    prevHash: ZERO_HASH,
    timestampMs: spec.timestampMs,
    rulesVersion: RULES_VERSION,
    stateCommitment: nextCommitment(ZERO_HASH, 0n, changes),
  };
  const block = sealBlock(header, tx, producer);
  // The same checks every verifier applies: a genesis they would refuse is a config error.
  checkTxStructure(tx, ctx);
  if (blockWireSize(block.body.length) > MAX_BLOCK_BYTES) {
    throw new TxRejected('TX_TOO_LARGE', `the genesis block would be ${blockWireSize(block.body.length)} bytes, over ${MAX_BLOCK_BYTES}: fewer allocations or assets`);
  }
  return { block, changes };
}
