/**
 * KlxBridge test fixture: deterministic secp256k1 keys for the processor, approvers and
 * listeners; EIP-712 signing of actions and controls exactly as the relayer will; and
 * deployment of the bridge with tokens.
 */
import { keccak256, toHex as viemHex, zeroAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { after, before, beforeEach } from 'node:test';
import type { EvmChain } from './evm-chain.ts';
import { ACTION_TYPES } from '../../adapters/evm/evm-codec.ts';

export const NATIVE = zeroAddress;
export const MAX = (1n << 256n) - 1n;
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const DAY = 86_400n;

export enum Kind {
  NoOp = 0,
  Release = 1,
  Mint = 2,
  Burn = 3,
}

export interface Action {
  kind: number;
  token: Address;
  recipient: Address;
  amount: bigint;
}

export const key = (label: string): PrivateKeyAccount => privateKeyToAccount(keccak256(viemHex(`klx-test-key:${label}`)));

export interface Validators {
  processor: PrivateKeyAccount;
  approvers: PrivateKeyAccount[];
  approverQuorum: number;
  listeners: PrivateKeyAccount[];
  listenerQuorum: number;
}

export function validators(k = 3, m = 2, n = 3, l = 2, tag = 'v'): Validators {
  return {
    processor: key(`${tag}:processor`),
    approvers: Array.from({ length: k }, (_, i) => key(`${tag}:approver:${i}`)),
    approverQuorum: m,
    listeners: Array.from({ length: n }, (_, i) => key(`${tag}:listener:${i}`)),
    listenerQuorum: l,
  };
}

export function setArg(v: Validators) {
  return {
    processor: v.processor.address,
    approvers: v.approvers.map((a) => a.address),
    approverQuorum: v.approverQuorum,
    listeners: v.listeners.map((a) => a.address),
    listenerQuorum: v.listenerQuorum,
  };
}

export interface Domain {
  chainId: number;
  verifyingContract: Address;
}

const domainOf = (d: Domain) => ({ name: 'KlxBridge', version: '1', chainId: d.chainId, verifyingContract: d.verifyingContract });


export function signAction(signer: PrivateKeyAccount, d: Domain, actionId: bigint, a: Action): Promise<Hex> {
  return signer.signTypedData({ domain: domainOf(d), types: ACTION_TYPES, primaryType: 'Action', message: { actionId, ...a } });
}

/** Processor signature and the first `count` approvers' signatures (default: the quorum). */
export async function authorize(v: Validators, d: Domain, actionId: bigint, a: Action, count = v.approverQuorum) {
  const processorSig = await signAction(v.processor, d, actionId, a);
  const approverSigs = await Promise.all(v.approvers.slice(0, count).map((s) => signAction(s, d, actionId, a)));
  return { processorSig, approverSigs };
}

type Field = { name: string; type: string };
export function signControl(signer: PrivateKeyAccount, d: Domain, primaryType: string, fields: Field[], message: Record<string, unknown>): Promise<Hex> {
  return signer.signTypedData({ domain: domainOf(d), types: { [primaryType]: fields }, primaryType, message });
}

export const CONTROL = {
  Pause: [{ name: 'nonce', type: 'uint64' }],
  Unpause: [{ name: 'nonce', type: 'uint64' }],
  TokenSettings: [
    { name: 'nonce', type: 'uint64' },
    { name: 'token', type: 'address' },
    { name: 'allowed', type: 'bool' },
    { name: 'mintBurn', type: 'bool' },
    { name: 'dailyCap', type: 'uint256' },
  ],
  Rotation: [
    { name: 'nonce', type: 'uint64' },
    { name: 'setHash', type: 'bytes32' },
  ],
  SelfReplace: [
    { name: 'nonce', type: 'uint64' },
    { name: 'oldKey', type: 'address' },
    { name: 'newKey', type: 'address' },
  ],
  CancelRotation: [
    { name: 'nonce', type: 'uint64' },
    { name: 'setHash', type: 'bytes32' },
  ],
} satisfies Record<string, Field[]>;

/** The other valid-looking encoding of the same signature: s' = n - s, v flipped (refused: high s). */
export function highSTwin(sig: Hex): Hex {
  const r = sig.slice(2, 66);
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = parseInt(sig.slice(130, 132), 16);
  return `0x${r}${(SECP256K1_N - s).toString(16).padStart(64, '0')}${(55 - v).toString(16).padStart(2, '0')}`;
}

export function withV(sig: Hex, v: number): Hex {
  return `${sig.slice(0, 130)}${v.toString(16).padStart(2, '0')}` as Hex;
}

export const settings = (allowed: boolean, mintBurn = false, dailyCap = MAX) => ({ allowed, mintBurn, dailyCap });

/** Deploys a KlxToken (treasury = wallet 1) and a KlxBridge allowing it and the native coin. */
export async function deployBridge(chain: EvmChain, v: Validators = validators(), rotationDelay = 3600n, caps: { klx?: bigint; native?: bigint } = {}) {
  const treasury = chain.wallet(1);
  const klx = await chain.viem.deployContract('KlxToken', [treasury.account.address]);
  const bridge = await chain.viem.deployContract('KlxBridge', [
    setArg(v),
    rotationDelay,
    [klx.address, NATIVE],
    [settings(true, false, caps.klx ?? MAX), settings(true, false, caps.native ?? MAX)],
  ]);
  const domain: Domain = { chainId: chain.chainId, verifyingContract: bridge.address };
  return { bridge, klx, treasury, domain, v };
}

export async function mined(chain: EvmChain, hash: Promise<Hex>) {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await hash, timeout: 10_000, pollingInterval: 20 });
  if (receipt.status !== 'success') throw new Error('transaction failed');
  return receipt;
}

export type Deployed = Awaited<ReturnType<typeof deployBridge>>;

/** Signs (processor + approver quorum) and applies token settings with control nonce `nonce`. */
export async function setToken(chain: EvmChain, f: Deployed, token: Address, s: ReturnType<typeof settings>, nonce: bigint) {
  const msg = { nonce, token, ...s };
  const p = await signControl(f.v.processor, f.domain, 'TokenSettings', CONTROL.TokenSettings, msg);
  const a = await Promise.all(f.v.approvers.slice(0, f.v.approverQuorum).map((k) => signControl(k, f.domain, 'TokenSettings', CONTROL.TokenSettings, msg)));
  return mined(chain, f.bridge.write.setTokenSettings([nonce, token, s, p, a]));
}

/** Executes action `id` signed by the processor and the approver quorum of `f`. */
export async function executeSigned(chain: EvmChain, f: Deployed, id: bigint, a: Action) {
  const s = await authorize(f.v, f.domain, id, a);
  return mined(chain, f.bridge.write.execute([id, a, s.processorSig, s.approverSigs]));
}

/**
 * Registers the usual hooks of a bridge test suite: one in-process chain for the suite, a
 * fresh bridge (and `klxCustody` KLX in it) before each test. Use inside `describe`.
 */
export function bridgeSuite(opts: { klxCustody?: bigint; rotationDelay?: bigint; createChain: () => Promise<EvmChain> }) {
  const state: { chain?: EvmChain; f?: Deployed } = {};
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('bridgeSuite: used outside a test');
    return v;
  };
  before(async () => {
    state.chain = await opts.createChain();
  });
  after(async () => state.chain?.close());
  beforeEach(async () => {
    const chain = need(state.chain);
    const f = await deployBridge(chain, validators(), opts.rotationDelay ?? 3600n);
    if (opts.klxCustody) await mined(chain, f.klx.write.transfer([f.bridge.address, opts.klxCustody], { account: f.treasury.account }));
    state.f = f;
  });
  return {
    get chain() {
      return need(state.chain);
    },
    get f() {
      return need(state.f);
    },
    run: (id: bigint, a: Action) => executeSigned(need(state.chain), need(state.f), id, a),
  };
}
