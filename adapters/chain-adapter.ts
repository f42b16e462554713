/**
 * The one interface every chain family implements (docs/adr/0010-chain-adapter.md).
 * Adapters describe chain facts and transactions; the relayer decides, signs and sends.
 * This file fixes the shape; issue #4 freezes it with the EVM adapter and the shared
 * conformance suite every adapter must pass.
 */
import { KlxError } from '../relayer/ledger/errors.ts';

export type ChainFamily = 'evm' | 'solana' | 'cosmos' | 'bitcoin' | 'tezos';

/** A block (or slot, or level) by height and hash. */
export interface BlockRef {
  height: bigint;
  hash: string;
}

/** A deposit as every honest listener reports it: identical canonical fields. */
export interface DepositObservation {
  chain: string;
  custody: string;
  txHash: string;
  /** Log, instruction or output index inside the transaction. */
  index: number;
  block: BlockRef;
  /** Contract-numbered id (EVM, Tezos) or null where the hub numbers deposits. */
  eventId: bigint | null;
  asset: string;
  /** What custody actually received, in the chain's base units. */
  amount: bigint;
  hubRecipient: string;
  refundTo: string;
}

/** The execution of action n as seen on the chain. */
export interface ExecutionObservation {
  actionId: bigint;
  txHash: string;
  block: BlockRef;
  /** Hash of the payload that executed at id n (it may be a no-op that replaced it). */
  payloadHash: string;
  paid: boolean;
}

/** A withdrawal (or no-op) the hub decided, in hub terms. */
export interface HubAction {
  actionId: bigint;
  kind: 'noop' | 'release' | 'mint' | 'burn';
  asset: string;
  recipient: string;
  /** Chain base units (already converted by toChainAmount). */
  amount: bigint;
}

/** Chain-specific and opaque to the core (typed data, a SignDoc, a PSBT, ...). */
export interface UnsignedAction {
  actionId: bigint;
  family: ChainFamily;
  payload: unknown;
}

export interface SigningRequest {
  /** Which key must sign: 'processor', 'approver' or a specific signer id. */
  role: 'processor' | 'approver';
  /** The exact bytes (or digest) that key signs. */
  bytes: Uint8Array;
}

export interface SignatureShare {
  signer: string;
  role: 'processor' | 'approver';
  signature: Uint8Array;
}

export interface SignedAction {
  actionId: bigint;
  family: ChainFamily;
  payload: unknown;
}

export interface ChainAdapter {
  readonly family: ChainFamily;
  /** The configured chain name (e.g. "ethereum", "polygon"). */
  readonly chain: string;

  /** Parses and checks an address of this chain; throws a typed error naming the problem. */
  validateAddress(text: string): string;
  /** Hub base units → chain base units; refuses amounts the chain cannot represent. */
  toChainAmount(asset: string, hubAmount: bigint): bigint;
  toHubAmount(asset: string, chainAmount: bigint): bigint;

  /** Latest block and the last block at the configured confirmation depth. */
  head(): Promise<{ latest: BlockRef; final: BlockRef }>;
  /** Deposits in final blocks after `from`; the caller stores `next` with the work it records. */
  scanDeposits(from: BlockRef | null): Promise<{ deposits: DepositObservation[]; next: BlockRef | null }>;
  /** The first of `attested` whose block changed (a reorg): the caller halts the chain. */
  checkReorg(attested: readonly BlockRef[]): Promise<BlockRef | null>;
  custodyBalances(at: BlockRef, assets: readonly string[]): Promise<Map<string, bigint>>;

  buildAction(action: HubAction): Promise<UnsignedAction>;
  /** What still has to be signed, given the shares collected so far (empty: complete). */
  signingRequests(unsigned: UnsignedAction, collected: readonly SignatureShare[]): SigningRequest[];
  assemble(unsigned: UnsignedAction, shares: readonly SignatureShare[]): SignedAction;
  /** Sends once; returns a reference to store before anything else (never resent elsewhere blindly). */
  submit(signed: SignedAction): Promise<{ txHash: string }>;
  /** The id the chain will execute next (contract counter, account sequence, ...). */
  nextExecutableId(): Promise<bigint>;
  findExecution(actionId: bigint): Promise<ExecutionObservation | null>;
}

export class UnknownChainError extends KlxError {
  constructor(chain: string, known: readonly string[]) {
    super('UNKNOWN_CHAIN', `no adapter is configured for chain "${chain}" (configured: ${known.join(', ') || 'none'})`, false, { chain });
  }
}

/** Adapters by configured chain name; the one place a chain is chosen. */
export class ChainAdapterRegistry {
  private readonly adapters = new Map<string, ChainAdapter>();

  register(adapter: ChainAdapter): void {
    if (this.adapters.has(adapter.chain)) throw new KlxError('DUPLICATE_CHAIN', `chain "${adapter.chain}" is registered twice`, false);
    this.adapters.set(adapter.chain, adapter);
  }

  get(chain: string): ChainAdapter {
    const a = this.adapters.get(chain);
    if (!a) throw new UnknownChainError(chain, [...this.adapters.keys()]);
    return a;
  }

  chains(): string[] {
    return [...this.adapters.keys()];
  }
}
