/**
 * What the hub's rules need to know about each chain family, as pure functions: the
 * address format (a withdrawal to a malformed address is refused before anything is
 * debited), the largest amount the chain carries, and how the owner of a refund
 * address proves ownership (to claim a deposit whose hub recipient was unusable).
 * The relayer's adapters use the same functions, so the hub and the chain agree.
 * A family not implemented yet refuses everything with a clear error.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { secp256k1 } from '@noble/curves/secp256k1';
import { base58 } from '@scure/base';
import { getAddress, hashMessage, keccak256, isAddress } from 'viem';
import { TxRejected } from './errors.ts';
import { verifyEd25519 } from './keys.ts';

export interface ChainFamilyRules {
  /** Canonical form of a chain address, or throws TxRejected BAD_CHAIN_ADDRESS. */
  canonicalAddress(text: string): string;
  /**
   * Canonical form of an address a payout can be sent to, or throws BAD_CHAIN_ADDRESS: a
   * withdrawal the adapter could never release would be debited and then stuck for good.
   */
  canonicalRecipient(text: string): string;
  /** Largest amount in base units the chain's token standard carries. */
  maxAmount: bigint;
  /** Whether `proof` is a signature of `message` by `address` under the chain's message-signing standard. */
  verifyOwnership(address: string, message: string, proof: Uint8Array): boolean;
}

const badAddress = (family: string, reason: string) => new TxRejected('BAD_CHAIN_ADDRESS', `not a valid ${family} address: ${reason}`);

const HALF_ORDER = secp256k1.CURVE.n >> 1n;

/**
 * What is wrong with an EVM address text (null: nothing). The one check the hub and the
 * EVM adapter both use, so they always agree on which destinations are valid.
 */
export function evmAddressProblem(text: string): string | null {
  if (typeof text !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(text)) return 'expected 0x followed by 40 hexadecimal digits';
  // Mixed case is an EIP-55 checksum and must be right; all-lower or all-upper carries none.
  const hex = text.slice(2);
  const unchecksummed = hex === hex.toLowerCase() || hex === hex.toUpperCase();
  if (!unchecksummed && !isAddress(text, { strict: true })) return 'the EIP-55 checksum does not match (a mistyped character?)';
  if (/^0x0{40}$/i.test(text)) return 'the zero address cannot hold or receive funds';
  return null;
}

/**
 * Hub base units <-> chain base units between two decimal counts: the exact amount, or
 * null when the target cannot carry it without losing digits. Bounds are the caller's.
 */
export function rescaleAmount(amount: bigint, fromDecimals: number, toDecimals: number): bigint | null {
  if (toDecimals >= fromDecimals) return amount * 10n ** BigInt(toDecimals - fromDecimals);
  const unit = 10n ** BigInt(fromDecimals - toDecimals);
  return amount % unit === 0n ? amount / unit : null;
}

export const evmRules: ChainFamilyRules = {
  canonicalAddress(text) {
    const problem = evmAddressProblem(text);
    if (problem) throw badAddress('EVM', problem);
    return getAddress(text);
  },
  canonicalRecipient: (text) => evmRules.canonicalAddress(text),
  maxAmount: (1n << 256n) - 1n,
  verifyOwnership(address, message, proof) {
    // EIP-191 personal_sign: 65 bytes r | s | v, low-s, v in {27, 28}.
    if (proof.length !== 65) return false;
    const v = proof[64] ?? 0;
    if (v !== 27 && v !== 28) return false;
    try {
      const sig = secp256k1.Signature.fromCompact(proof.subarray(0, 64)).addRecoveryBit(v - 27);
      if (sig.s > HALF_ORDER) return false;
      const digest = hashMessage(message).slice(2);
      const pub = sig.recoverPublicKey(digest).toRawBytes(false);
      const recovered = getAddress(`0x${keccak256(pub.subarray(1)).slice(-40)}`);
      return recovered === evmRules.canonicalAddress(address);
    } catch {
      return false;
    }
  },
};

/**
 * What is wrong with a Solana address text (null: nothing): base58 of exactly 32 bytes,
 * in its one canonical spelling. Whether it is a wallet or a token account is a question
 * for the chain (the adapter); the hub pays wallets, whose token account the adapter derives.
 */
export function solanaAddressProblem(text: string): string | null {
  if (typeof text !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{1,64}$/.test(text)) return 'expected base58 characters (a 32-byte key)';
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(text);
  } catch {
    return 'not base58';
  }
  if (bytes.length !== 32) return `decodes to ${bytes.length} bytes, not 32`;
  if (base58.encode(bytes) !== text) return 'not the canonical base58 spelling';
  if (bytes.every((b) => b === 0)) return 'the system program address cannot receive funds';
  return null;
}

export const solanaRules: ChainFamilyRules = {
  canonicalAddress(text) {
    const problem = solanaAddressProblem(text);
    if (problem) throw badAddress('Solana', problem);
    return text;
  },
  // Releases pay a wallet's associated token account, so the recipient is the wallet: a key on
  // the ed25519 curve. Token accounts and program-derived addresses are off it.
  canonicalRecipient(text) {
    const address = solanaRules.canonicalAddress(text);
    try {
      ed25519.ExtendedPoint.fromHex(base58.decode(address));
    } catch {
      throw badAddress('Solana', 'off the ed25519 curve (a token account or program-derived address): name the wallet that owns it');
    }
    return address;
  },
  // SPL token amounts are u64.
  maxAmount: (1n << 64n) - 1n,
  verifyOwnership(address, message, proof) {
    // Wallets' signMessage: an ed25519 signature of the message's UTF-8 bytes by the address's key.
    if (proof.length !== 64 || solanaAddressProblem(address) !== null) return false;
    return verifyEd25519(base58.decode(address), new TextEncoder().encode(message), proof);
  },
};

function notYet(family: string): ChainFamilyRules {
  const refuse = (): never => {
    throw new TxRejected('UNSUPPORTED_CHAIN_FAMILY', `the ${family} family is not supported by these rules yet`);
  };
  return { canonicalAddress: refuse, canonicalRecipient: refuse, maxAmount: 0n, verifyOwnership: () => false };
}

export const CHAIN_FAMILY_RULES: Record<'evm' | 'solana' | 'cosmos' | 'bitcoin' | 'tezos', ChainFamilyRules> = {
  evm: evmRules,
  solana: solanaRules,
  cosmos: notYet('cosmos'),
  bitcoin: notYet('bitcoin'),
  tezos: notYet('tezos'),
};

/** The message a refund address signs to claim deposit `eventId` of `chain` to hub address `to`. */
export function claimMessage(network: string, channel: string, chain: string, eventId: string, to: string): string {
  return `KLX Bridge claim\nnetwork: ${network}\nchannel: ${channel}\nchain: ${chain}\nevent: ${eventId}\nto: ${to}`;
}
