/**
 * The ledger's rules: what a transaction does to the state. Pure: reads the state,
 * returns the changes, or throws TxRejected and changes nothing. Rules are versioned
 * (`RULES_VERSION` is written into every block) so later rules can add behaviour while
 * old blocks are still re-executed with the rules they were produced under.
 */
import { MAX_U128 } from './bytes.ts';
import { TxRejected } from './errors.ts';
import { ADDRESS_VERSION_MODULE, addressFromPublicKey, decodeAddress } from './address.ts';
import type { LedgerState, StateChange } from './state.ts';
import type { SignedTx } from './transaction.ts';
import type { GenesisBody, TransferBody } from './tx-bodies.ts';
import { executeBridgeTx, useNonce } from './bridge-rules.ts';

export const RULES_VERSION = 1;
export const SUPPORTED_RULES_VERSIONS: ReadonlySet<number> = new Set([1]);

export function executeTx(state: LedgerState, tx: SignedTx, rulesVersion = RULES_VERSION): StateChange[] {
  if (!SUPPORTED_RULES_VERSIONS.has(rulesVersion)) {
    throw new TxRejected('TX_MALFORMED', `rules version ${rulesVersion} is not supported by this build`);
  }
  if (tx.type === 'genesis') return executeGenesis(state, tx as SignedTx<'genesis'>);
  if (state.head.height < 0n) throw new TxRejected('NOT_AUTHORIZED', 'the first block of a channel must be its genesis');
  switch (tx.type) {
    case 'transfer':
      return executeTransfer(state, tx as SignedTx<'transfer'>);
    case 'chain-register':
    case 'attest':
    case 'withdraw':
    case 'approve':
    case 'cosign':
    case 'claim-deposit':
    case 'return-deposit':
    case 'override-propose':
    case 'override-confirm':
    case 'override-consent':
    case 'custody-sync':
    case 'withdraw-cancel':
    case 'channel-link':
    case 'xfer-prepare':
    case 'xfer-commit':
    case 'xfer-abort':
    case 'migration-config':
    case 'migrate-prepare':
    case 'migrate-commit':
    case 'migrate-abort':
      return executeBridgeTx(state, tx as SignedTx<typeof tx.type>);
  }
  if (tx.type === 'xfer-request') throw new TxRejected('NOT_A_TRANSACTION', 'an xfer-request is signed for the coordinator, never submitted to a channel');
  throw new TxRejected('UNKNOWN_TX_TYPE', `unknown transaction type "${String(tx.type)}"`);
}

function executeGenesis(state: LedgerState, tx: SignedTx<'genesis'>): StateChange[] {
  const g: GenesisBody = tx.body;
  if (state.head.height >= 0n) throw new TxRejected('NOT_AUTHORIZED', 'genesis is only valid as the first block');
  if (tx.sender !== addressFromPublicKey(g.addressPrefix, g.producer)) {
    throw new TxRejected('NOT_AUTHORIZED', 'genesis must be signed by the producer it names');
  }
  const changes: StateChange[] = [{ kind: 'params', producer: g.producer, addressPrefix: g.addressPrefix }];
  for (const a of g.assets) changes.push({ kind: 'asset', asset: a.id, decimals: a.decimals });
  const totals = new Map<string, bigint>();
  for (const a of g.allocations) {
    const k = `${a.address}\u0000${a.asset}`;
    const total = (totals.get(k) ?? 0n) + a.amount;
    if (total > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', `allocation to ${a.address} overflows`);
    totals.set(k, total);
  }
  for (const [k, amount] of totals) {
    const [address = '', asset = ''] = k.split('\u0000');
    changes.push({ kind: 'balance', address, asset, amount });
  }
  return changes;
}

function executeTransfer(state: LedgerState, tx: SignedTx<'transfer'>): StateChange[] {
  const t: TransferBody = tx.body;
  const prefix = state.addressPrefix ?? '';
  const nonce = useNonce(state, tx);
  if (!state.assets.has(t.asset)) throw new TxRejected('UNKNOWN_ASSET', `asset "${t.asset}" is not known on this channel`);
  if (!state.isKnownAccount(tx.sender)) {
    throw new TxRejected('UNKNOWN_ACCOUNT', 'the sender has no account on this channel (it never received funds)');
  }
  const to = decodeAddress(t.to, prefix);
  if (to.version === ADDRESS_VERSION_MODULE && !state.isKnownAccount(t.to)) {
    throw new TxRejected('UNKNOWN_ADDRESS', 'the recipient is a module address that does not exist on this channel');
  }
  const from = state.balance(tx.sender, t.asset);
  if (from < t.amount) {
    throw new TxRejected('INSUFFICIENT_BALANCE', `balance ${from} is less than ${t.amount}`, {
      balance: from.toString(),
      asset: t.asset,
    });
  }
  const changes: StateChange[] = [];
  if (t.to !== tx.sender) {
    const credited = state.balance(t.to, t.asset) + t.amount;
    if (credited > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', "the recipient's balance would exceed u128");
    changes.push({ kind: 'balance', address: tx.sender, asset: t.asset, amount: from - t.amount });
    changes.push({ kind: 'balance', address: t.to, asset: t.asset, amount: credited });
  }
  changes.push(nonce);
  return changes;
}
