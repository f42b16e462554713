/**
 * The one interface every chain family implements (docs/adr/0010-chain-adapter.md).
 * Adapters describe chain facts and transactions; the relayer decides, signs and sends.
 * Every adapter passes the shared conformance suite (test/adapters/conformance.ts).
 *
 * Units: amounts are bigint base units of the chain (`toChainAmount` / `toHubAmount`
 * convert); block heights are bigint; hashes and addresses are the chain's own text form.
 * Errors: typed `KlxError`s; `retriable` says whether trying again later can help.
 */
import { KlxError } from '../relayer/ledger/errors.ts';

export type ChainFamily = 'evm' | 'solana' | 'cosmos' | 'bitcoin' | 'tezos';

/** A block (or slot, or level) by height and hash. */
export interface BlockRef {
  height: bigint;
  hash: string;
}

/** How an asset exists on the chain (configured per chain; the hub asset it maps to is the core's business). */
export interface ChainAssetSpec {
  /** The chain's id for the asset (EVM: token address, or "native"). */
  chainAsset: string;
  /** Decimals of the asset on the chain. */
  decimals: number;
  /** Decimals of the hub asset it maps to. */
  hubDecimals: number;
  /** 'lock': custody holds it and releases it; 'mint': a bridged token minted on withdrawal, burnt on deposit. */
  mode: 'lock' | 'mint';
}

interface ObservationBase {
  chain: string;
  /** The custody the event concerns (EVM: the bridge contract). */
  custody: string;
  txHash: string;
  /** Log, instruction or output index inside the block/transaction (the adapter's canonical position). */
  index: number;
  block: BlockRef;
  /**
   * Position in the chain's event sequence: the contract's event id (EVM, Tezos), or the
   * hub-numbered position for families without one (null: the hub numbers it in
   * (height, tx index, index) order).
   */
  eventId: bigint | null;
}

/** A deposit as every honest listener reports it: identical canonical fields. */
export interface DepositObservation extends ObservationBase {
  kind: 'deposit';
  /** The chain asset id (token address / "native"), even if the hub does not know it (stray custody). */
  asset: string;
  /** What custody actually received, in the chain's base units. */
  amount: bigint;
  /** Exactly as the depositor wrote it: the hub decides whether it is a valid address. */
  hubRecipient: string;
  refundTo: string;
}

/** The execution of action n as seen on the chain. */
export interface ExecutionObservation extends ObservationBase {
  kind: 'execution';
  actionId: bigint;
  /** Hash of the payload that executed at id n (it may be a no-op that replaced the action). */
  payloadHash: string;
  /** False when the payout failed on the chain and the amount became claimable there. */
  paid: boolean;
}

export type ChainEvent = DepositObservation | ExecutionObservation;

/** A withdrawal (or no-op) the hub decided, in chain terms. */
export interface HubAction {
  actionId: bigint;
  kind: 'noop' | 'release' | 'mint';
  /** Chain asset id (ignored for a no-op). */
  asset: string;
  /** Chain address, already validated (ignored for a no-op). */
  recipient: string;
  /** Chain base units (ignored for a no-op). */
  amount: bigint;
  /**
   * Chain state the action is built against, from `actionContext` ('' or absent where the
   * family needs none; Solana: the durable nonce value). Stored on the hub with the shares,
   * so that every party rebuilds the same action later.
   */
  context?: string;
}

/** Chain-specific and opaque to the core (typed data, a SignDoc, a PSBT, ...). JSON-safe. */
export interface UnsignedAction {
  chain: string;
  actionId: bigint;
  /** What signers commit to: equal for every honest party that built the same action. */
  payloadHash: string;
  /** The context it was built against (see HubAction.context). */
  context: string;
  payload: unknown;
}

export type SignerRole = 'processor' | 'approver';

export interface SigningRequest {
  role: SignerRole;
  /** The exact bytes (or digest) the key signs this round. */
  bytes: Uint8Array;
  /** Round number (0 for single-round families). */
  round: number;
}

export interface SignatureShare {
  /** The signer's chain address (EVM: its secp256k1 address). */
  signer: string;
  role: SignerRole;
  round: number;
  signature: Uint8Array;
}

/** Actions ready to land, opaque to the core. */
export interface SignedAction {
  chain: string;
  actionId: bigint;
  payloadHash: string;
  payload: unknown;
}

/** A key that signs for this chain, held by the relayer (never logged). */
export interface ChainSigner {
  readonly address: string;
  sign(request: SigningRequest): Uint8Array;
}

/** The fee payer's view the submitter keeps in SQL. */
export interface SubmissionRecord {
  txHash: string;
  /** The payer's account nonce/sequence the transaction used (null where not applicable). */
  nonce: bigint | null;
  /** Signed raw transaction, kept so that the SAME bytes can be re-broadcast to the same RPC. */
  raw: string;
}

export type SubmissionState = 'pending' | 'included' | 'reverted' | 'unknown';

export interface ChainAdapter {
  readonly family: ChainFamily;
  /** The configured chain name (e.g. "ethereum", "polygon"). */
  readonly chain: string;
  /** The custody address events are watched on. */
  readonly custody: string;

  // ---- addresses and amounts (pure)
  /** Parses and checks an address of this chain; returns its canonical form or throws BadChainAddress. */
  validateAddress(text: string): string;
  /** Hub base units → chain base units; throws UnrepresentableAmount when the chain cannot carry it. */
  toChainAmount(asset: ChainAssetSpec, hubAmount: bigint): bigint;
  /** Chain base units → hub base units; throws UnrepresentableAmount when the hub cannot carry it exactly. */
  toHubAmount(asset: ChainAssetSpec, chainAmount: bigint): bigint;

  // ---- observing
  /**
   * A start-up check that the RPC serves this chain with every read observing it needs
   * (EVM: the chain id, reads of a block named by its hash, EIP-1898; Solana: blocks and
   * address history at `finalized`). Throws a non-retriable ChainRpcError naming what is
   * missing, or a retriable one when the RPC cannot be reached now.
   */
  probe(): Promise<void>;
  /** Latest block and the newest block at the configured confirmation depth. */
  head(): Promise<{ latest: BlockRef; final: BlockRef }>;
  /**
   * Bridge events in blocks (after, upTo], in the chain's canonical order. `upTo` must be final.
   * The events and `after` lie on the one history that ends at `upTo`: a node that shows
   * blocks of two histories at once (a reorganisation applied block by block, a load
   * balancer mixing nodes) makes it throw a retriable ChainRpcError, and an `after` that is
   * no longer the chain's block a non-retriable one (ADR 0020).
   */
  scan(after: BlockRef | null, upTo: BlockRef): Promise<ChainEvent[]>;
  /** Bridge events of one transaction (operator re-examination), with its block; [] if unknown. */
  eventsOfTx(txHash: string): Promise<ChainEvent[]>;
  /** The first of `attested` whose block changed or vanished (a reorg), or null. */
  checkReorg(attested: readonly BlockRef[]): Promise<BlockRef | null>;
  /**
   * The block at a height at or below the final block, or null where the height has none
   * (a skipped Solana slot). A height the node cannot answer for now (above its head, or a
   * block it lacks: a node behind a load balancer) is a retriable error, never null: null
   * is an empty height that listener-clear-halt steps over. Listeners read custody at
   * checkpoint heights through it.
   */
  blockAt(height: bigint): Promise<BlockRef | null>;
  /**
   * Free custody balances at a block, by chain asset id: what custody holds for the bridge,
   * less what executed payouts left claimable on the chain itself (EVM `totalClaimable`).
   * The state read must be that block's. The EVM adapter reads by block hash and refuses a
   * block that is no longer the chain's with a retriable ChainRpcError.
   */
  custodyBalances(at: BlockRef, assets: readonly string[]): Promise<Map<string, bigint>>;

  // ---- withdrawals
  /**
   * True where action n + 1 can only be built once action n executed on the chain (Solana:
   * it is built against the durable nonce that n advances). Approvers then sign only the
   * lowest open action, and only once every earlier one is settled on the hub.
   */
  readonly signsAfterPreviousExecuted: boolean;
  /** How many consecutive actions one submission may land (1 where each action is its own transaction). */
  readonly maxActionsPerSubmission: number;
  /**
   * The chain state action n must be built against ('' where none is needed, without any
   * RPC). Throws a retriable NOT_EXECUTABLE_YET while the chain cannot execute n next.
   */
  actionContext(actionId: bigint): Promise<string>;
  buildAction(action: HubAction): UnsignedAction;
  /** What still has to be signed, given the shares collected so far (empty: complete). */
  signingRequests(unsigned: UnsignedAction, collected: readonly SignatureShare[]): SigningRequest[];
  /** Whether a share is a valid signature by a member of the custody's current signer set. */
  verifyShare(unsigned: UnsignedAction, share: SignatureShare): boolean;
  /** Loads a signing key for this chain (hex secret); the secret never appears in errors. */
  signer(secret: string): ChainSigner;
  assemble(unsigned: UnsignedAction, shares: readonly SignatureShare[]): SignedAction;
  /**
   * Builds and signs (with the fee payer's key) one transaction landing consecutive
   * signed actions, at the payer nonce given. Sends nothing: the caller stores the
   * record first, then calls `broadcast`.
   */
  prepareSubmission(actions: readonly SignedAction[], payerSecret: string, payerNonce: bigint | null): Promise<SubmissionRecord>;
  /** Sends exactly these bytes through this adapter's own RPC (never another one). */
  broadcast(record: SubmissionRecord): Promise<void>;
  submissionState(record: SubmissionRecord): Promise<SubmissionState>;
  /** The payer's next nonce/sequence as the chain sees it, counting pending transactions. */
  payerNonce(payerAddress: string): Promise<bigint | null>;
  /** The id the chain will execute next (contract counter, account sequence, ...). */
  nextExecutableId(): Promise<bigint>;
  findExecution(actionId: bigint): Promise<ExecutionObservation | null>;
}

/** Action n cannot be built yet: an earlier action has not executed (and become final) on the chain. */
export class NotExecutableYet extends KlxError {
  constructor(chain: string, actionId: bigint, reason: string) {
    super('NOT_EXECUTABLE_YET', `${chain}: action ${actionId} cannot be built yet: ${reason}`, true, { chain });
  }
}

export class UnknownChainError extends KlxError {
  constructor(chain: string, known: readonly string[]) {
    super('UNKNOWN_CHAIN', `no adapter is configured for chain "${chain}" (configured: ${known.join(', ') || 'none'})`, false, { chain });
  }
}

export class BadChainAddress extends KlxError {
  constructor(chain: string, reason: string) {
    super('BAD_CHAIN_ADDRESS', `not a valid ${chain} address: ${reason}`, false, { chain });
  }
}

export class UnrepresentableAmount extends KlxError {
  constructor(chain: string, reason: string) {
    super('UNREPRESENTABLE_AMOUNT', `${chain} cannot represent this amount: ${reason}`, false, { chain });
  }
}

/** A chain RPC failure; `retriable` when trying again (on the same RPC) can help. */
export class ChainRpcError extends KlxError {
  constructor(chain: string, message: string, retriable: boolean) {
    super(retriable ? 'CHAIN_RPC_UNAVAILABLE' : 'CHAIN_RPC_REFUSED', `${chain}: ${message}`, retriable, { chain });
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
