/**
 * The pure half of the EVM adapter: addresses, amounts, the EIP-712 action and the JSON
 * payloads that carry it, secp256k1 signatures as KlxBridge checks them, and the decoding
 * of bridge logs into observations. No network I/O (the ABI is read once from artifacts/).
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import * as ecc from 'tiny-secp256k1';
import type { ArtifactMap } from 'hardhat/types/artifacts';
import { bytesToBigInt, bytesToHex, decodeEventLog, domainSeparator, toBytes, getAbiItem, getAddress, hexToBytes, keccak256, zeroAddress, type Address, type Hex } from 'viem';
import { KlxError } from '../../relayer/ledger/errors.ts';
import { evmAddressProblem } from '../../relayer/ledger/chain-families.ts';
import { BadChainAddress, type ChainAssetSpec, type ChainEvent } from '../chain-adapter.ts';
import { loadArtifact } from './artifacts.ts';
import { chainToHubUnits, hubToChainUnits } from '../chain-amounts.ts';

export type KlxBridgeAbi = ArtifactMap['KlxBridge']['abi'];

let bridgeAbi: KlxBridgeAbi | undefined;
/** The compiled KlxBridge ABI (typed from Hardhat's generated declarations). */
export function klxBridgeAbi(): KlxBridgeAbi {
  bridgeAbi ??= loadArtifact('KlxBridge').abi as unknown as KlxBridgeAbi;
  return bridgeAbi;
}

const observedEvents = () => {
  const abi = klxBridgeAbi();
  return [getAbiItem({ abi, name: 'Deposit' }), getAbiItem({ abi, name: 'ActionExecuted' })] as const;
};
let events: ReturnType<typeof observedEvents> | undefined;
/** The two events listeners observe; both draw ids from the contract's one `nextEventId`. */
export function bridgeEvents(): ReturnType<typeof observedEvents> {
  events ??= observedEvents();
  return events;
}

// ---------------------------------------------------------------- addresses and assets

/** The chain asset id of the native coin (address(0) in the contract). */
export const NATIVE_ASSET = 'native';

const ADDRESS_TEXT = /^0x[0-9a-fA-F]{40}$/;

/** User input is quoted in errors, but never at unbounded length. */
const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/** The EIP-55 checksummed form of an address, or BadChainAddress with the reason (the hub's own check). */
export function canonicalAddress(chain: string, text: string): Address {
  const problem = evmAddressProblem(text);
  if (problem) throw new BadChainAddress(chain, `${typeof text === 'string' ? quote(text) : typeof text}: ${problem}`);
  return getAddress(text);
}

/** The token address the contract uses for a chain asset id ("native" → address(0)). */
export function tokenOfAsset(chain: string, asset: string): Address {
  if (asset === NATIVE_ASSET) return zeroAddress;
  try {
    return canonicalAddress(chain, asset);
  } catch {
    throw new BadChainAddress(chain, `asset ${quote(String(asset))} is neither "native" nor a token address`);
  }
}

export function assetOfToken(token: Address): string {
  return BigInt(token) === 0n ? NATIVE_ASSET : getAddress(token);
}

// ---------------------------------------------------------------- amounts

export const MAX_UINT256 = (1n << 256n) - 1n;

const UINT256 = { max: MAX_UINT256, name: 'uint256' };

export function hubToChainAmount(chain: string, spec: ChainAssetSpec, hubAmount: bigint): bigint {
  return hubToChainUnits(chain, UINT256, spec, hubAmount);
}

export function chainToHubAmount(chain: string, spec: ChainAssetSpec, chainAmount: bigint): bigint {
  return chainToHubUnits(chain, UINT256, spec, chainAmount);
}

// ---------------------------------------------------------------- actions (EIP-712)

/** KlxBridge.ActionKind. Burn exists in the contract but the hub never asks for it. */
export const ActionKind = { NoOp: 0, Release: 1, Mint: 2, Burn: 3 } as const;

export interface EvmAction {
  actionId: bigint;
  kind: number;
  token: Address;
  recipient: Address;
  amount: bigint;
}

/** An EvmAction in JSON-safe form (the UnsignedAction payload). */
export interface EvmActionPayload {
  actionId: string;
  kind: number;
  token: Address;
  recipient: Address;
  amount: string;
}

/** The SignedAction payload: everything `execute` takes besides the id. */
export interface EvmSignedPayload {
  action: EvmActionPayload;
  processorSignature: Hex;
  approverSignatures: Hex[];
}

export interface EvmDomain {
  chainId: number;
  bridge: Address;
}

export const ACTION_TYPES = {
  Action: [
    { name: 'actionId', type: 'uint64' },
    { name: 'kind', type: 'uint8' },
    { name: 'token', type: 'address' },
    { name: 'recipient', type: 'address' },
    { name: 'amount', type: 'uint256' },
  ],
} as const;

const MAX_UINT64 = (1n << 64n) - 1n;

const ACTION_TYPEHASH = keccak256(toBytes('Action(uint64 actionId,uint8 kind,address token,address recipient,uint256 amount)'), 'bytes');
const domainSeparators = new Map<string, Uint8Array>();

function domainSeparatorOf(d: EvmDomain): Uint8Array {
  const key = `${d.chainId}:${d.bridge.toLowerCase()}`;
  let sep = domainSeparators.get(key);
  if (!sep) {
    sep = hexToBytes(domainSeparator({ domain: { name: 'KlxBridge', version: '1', chainId: d.chainId, verifyingContract: d.bridge } }));
    domainSeparators.set(key, sep);
  }
  return sep;
}

function putWord(out: Uint8Array, at: number, v: bigint, bits: number, what: string): void {
  if (v < 0n || v >= 1n << BigInt(bits)) throw new RangeError(`${what} is not a uint${bits}`);
  for (let i = 31; v > 0n; i--, v >>= 8n) out[at + i] = Number(v & 0xffn);
}

function putAddress(out: Uint8Array, at: number, a: Address, what: string): void {
  if (!ADDRESS_TEXT.test(a)) throw new RangeError(`${what} is not an address`);
  out.set(hexToBytes(a), at + 12);
}

/**
 * KlxBridge.actionDigest: the bytes every signer signs and the payloadHash the contract logs.
 * EIP-712 by hand over a cached domain separator: every role hashes every action, and
 * viem's generic typed-data hashing cost several times more (tests compare both).
 */
export function actionDigest(domain: EvmDomain, a: EvmAction): Hex {
  const struct = new Uint8Array(192);
  struct.set(ACTION_TYPEHASH, 0);
  putWord(struct, 32, a.actionId, 64, 'actionId');
  putWord(struct, 64, BigInt(a.kind), 8, 'kind');
  putAddress(struct, 96, a.token, 'token');
  putAddress(struct, 128, a.recipient, 'recipient');
  putWord(struct, 160, a.amount, 256, 'amount');
  const message = new Uint8Array(66);
  message[0] = 0x19;
  message[1] = 0x01;
  message.set(domainSeparatorOf(domain), 2);
  message.set(keccak256(struct, 'bytes'), 34);
  return keccak256(message);
}

export function actionToPayload(a: EvmAction): EvmActionPayload {
  return { actionId: a.actionId.toString(), kind: a.kind, token: a.token, recipient: a.recipient, amount: a.amount.toString() };
}

const badAction = (chain: string, reason: string) => new KlxError('BAD_ACTION', `${chain}: not a valid EVM action: ${reason}`, false, { chain });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function decimal(chain: string, field: string, v: unknown, max: bigint): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v) || BigInt(v) > max) throw badAction(chain, `${field} must be a decimal string up to ${max}`);
  return BigInt(v);
}

function payloadAddress(chain: string, field: string, v: unknown): Address {
  if (typeof v !== 'string' || !ADDRESS_TEXT.test(v)) throw badAction(chain, `${field} must be an address`);
  return getAddress(v);
}

/** Parses an action payload strictly: anything unexpected is refused, never guessed. */
export function actionFromPayload(chain: string, payload: unknown): EvmAction {
  if (!isRecord(payload)) throw badAction(chain, 'the payload is not an object');
  const keys = Object.keys(payload).sort().join(',');
  if (keys !== 'actionId,amount,kind,recipient,token') throw badAction(chain, `unexpected payload fields (${keys})`);
  const kind = payload.kind;
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < ActionKind.NoOp || kind > ActionKind.Burn) throw badAction(chain, 'kind must be 0 to 3');
  const actionId = decimal(chain, 'actionId', payload.actionId, MAX_UINT64);
  if (actionId === 0n) throw badAction(chain, 'action ids start at 1');
  return {
    actionId,
    kind,
    token: payloadAddress(chain, 'token', payload.token),
    recipient: payloadAddress(chain, 'recipient', payload.recipient),
    amount: decimal(chain, 'amount', payload.amount, MAX_UINT256),
  };
}

/** The action of an Unsigned/SignedAction after checking it belongs here and its hash is its payload's. */
export function verifiedAction(
  chain: string,
  domain: EvmDomain,
  envelope: { chain: string; actionId: bigint; payloadHash: string },
  payload: unknown,
): { action: EvmAction; digest: Hex } {
  if (envelope.chain !== chain) throw badAction(chain, `it was built for chain "${envelope.chain}"`);
  const action = actionFromPayload(chain, payload);
  if (action.actionId !== envelope.actionId) throw badAction(chain, `payload id ${action.actionId} differs from action id ${envelope.actionId}`);
  const digest = actionDigest(domain, action);
  if (digest !== envelope.payloadHash.toLowerCase()) throw badAction(chain, 'the payload hash does not match the payload');
  return { action, digest };
}

const SIGNATURE_HEX = /^0x[0-9a-fA-F]{130}$/;

export function signedFromPayload(chain: string, payload: unknown): { action: unknown; processorSignature: Hex; approverSignatures: Hex[] } {
  if (!isRecord(payload)) throw badAction(chain, 'the signed payload is not an object');
  const { action, processorSignature, approverSignatures } = payload;
  const sig = (v: unknown): v is Hex => typeof v === 'string' && SIGNATURE_HEX.test(v);
  if (!sig(processorSignature)) throw badAction(chain, 'processorSignature must be 65 bytes of hex');
  if (!Array.isArray(approverSignatures) || !approverSignatures.every(sig)) throw badAction(chain, 'approverSignatures must be 65-byte hex signatures');
  return { action, processorSignature, approverSignatures };
}

// ---------------------------------------------------------------- secp256k1

const HALF_ORDER = secp256k1.CURVE.n >> 1n;

const badKey = () => new KlxError('BAD_SIGNER_KEY', 'not a usable secp256k1 secret key: expected 32 bytes of hex (0x optional) in the curve range', false);

/** Parses a hex secret. The error never echoes the input: it may be most of a key. */
export function parseSecretKey(secret: string): Uint8Array {
  const hex = typeof secret === 'string' ? secret.trim().replace(/^0x/i, '') : '';
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw badKey();
  const key = hexToBytes(`0x${hex}`);
  if (!secp256k1.utils.isValidPrivateKey(key)) throw badKey();
  return key;
}

function addressOfPublicKey(uncompressed: Uint8Array): Address {
  return getAddress(`0x${keccak256(uncompressed.subarray(1)).slice(-40)}`);
}

export function addressOfKey(key: Uint8Array): Address {
  return addressOfPublicKey(secp256k1.getPublicKey(key, false));
}

/** r ‖ s ‖ v with low s and v in {27, 28}, as BridgeAuth._recover accepts. */
export function signDigest(key: Uint8Array, digest: Uint8Array): Uint8Array {
  if (digest.length !== 32) throw new KlxError('BAD_SIGNING_REQUEST', `an EVM signer signs a 32-byte digest, not ${digest.length} bytes`, false);
  // libsecp256k1 (WebAssembly): RFC 6979 nonces and always the low s.
  const sig = ecc.signRecoverable(digest, key);
  const out = new Uint8Array(65);
  out.set(sig.signature, 0);
  out[64] = 27 + sig.recoveryId;
  return out;
}

/** The signer of a digest, or null for anything the contract would refuse. */
/**
 * Recovered signers by (digest, signature): recovery is pure and costs milliseconds in
 * JavaScript, while the processor, the submitter and its pre-flight check look at the
 * same shares several times. Bounded; the oldest entries go first.
 */
const recovered = new Map<string, Address | null>();
const RECOVERED_MAX = 16_384;

export function recoverSigner(digest: Uint8Array, signature: Uint8Array): Address | null {
  if (digest.length !== 32 || signature.length !== 65) return null;
  const key = `${bytesToHex(digest)}${bytesToHex(signature)}`;
  const known = recovered.get(key);
  if (known !== undefined) return known;
  const signer = recoverUncached(digest, signature);
  if (recovered.size >= RECOVERED_MAX) recovered.delete(recovered.keys().next().value as string);
  recovered.set(key, signer);
  return signer;
}

function recoverUncached(digest: Uint8Array, signature: Uint8Array): Address | null {
  const v = signature[64] ?? 0;
  if (v !== 27 && v !== 28) return null;
  const r = bytesToBigInt(signature.subarray(0, 32));
  const s = bytesToBigInt(signature.subarray(32, 64));
  if (r === 0n || s === 0n || r >= secp256k1.CURVE.n || s > HALF_ORDER) return null;
  try {
    // libsecp256k1 through WebAssembly: about 7 times faster than the JavaScript curve here.
    const pub = ecc.recover(digest, signature.subarray(0, 64), (v - 27) as 0 | 1, false);
    return pub ? addressOfPublicKey(pub) : null;
  } catch {
    return null;
  }
}

export const hexOf = (bytes: Uint8Array): Hex => bytesToHex(bytes);

// ---------------------------------------------------------------- logs

/** A log as RPC nodes return it (viem's formatted Log). */
export interface RawLog {
  address: Address;
  topics: readonly Hex[];
  data: Hex;
  blockNumber: bigint | null;
  blockHash: Hex | null;
  logIndex: number | null;
  transactionHash: Hex | null;
}

/** A bridge Deposit or ActionExecuted log as an observation; null for any other log. */
export function observationOfLog(ctx: { chain: string; custody: Address }, log: RawLog): ChainEvent | null {
  if (log.address.toLowerCase() !== ctx.custody.toLowerCase()) return null;
  const [signature, ...rest] = log.topics;
  if (!signature) return null;
  let decoded;
  try {
    decoded = decodeEventLog({ abi: bridgeEvents(), topics: [signature, ...rest], data: log.data, strict: true });
  } catch {
    return null; // another event of the bridge (top-ups, controls): not an observation
  }
  if (log.blockNumber === null || log.blockHash === null || log.logIndex === null || log.transactionHash === null) {
    throw new KlxError('CHAIN_LOG_PENDING', `${ctx.chain}: a bridge log without its block position`, true, { chain: ctx.chain });
  }
  const base = {
    chain: ctx.chain,
    custody: ctx.custody,
    txHash: log.transactionHash.toLowerCase(),
    index: log.logIndex,
    block: { height: log.blockNumber, hash: log.blockHash.toLowerCase() },
  };
  if (decoded.eventName === 'Deposit') {
    const a = decoded.args;
    return {
      kind: 'deposit',
      ...base,
      eventId: a.eventId,
      asset: assetOfToken(a.token),
      amount: a.amount,
      hubRecipient: a.hubRecipient,
      refundTo: getAddress(a.refundTo),
    };
  }
  const a = decoded.args;
  return { kind: 'execution', ...base, eventId: a.eventId, actionId: a.actionId, payloadHash: a.payloadHash.toLowerCase(), paid: a.paid };
}

/** Canonical chain order: block height, then log index. */
export function byChainPosition(x: ChainEvent, y: ChainEvent): number {
  if (x.block.height !== y.block.height) return x.block.height < y.block.height ? -1 : 1;
  return x.index - y.index;
}
