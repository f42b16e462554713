/**
 * Listener-attested custody balance syncs (DESIGN.md section 5, issue 5). At checkpoint blocks
 * each listener reads the free custody balance of every lock-mode asset and the chain's own
 * floor (deposits in − releases out up to that block, from the chain's events). Their
 * difference is the surplus custody holds beyond what the bridge's events explain. Once L
 * listeners attest identical readings at one height:
 *  - a surplus that grew (a top-up sent outside the deposit flow) credits the treasury
 *    account on the hub and raises the custody the hub counts, which may release waiting
 *    transfers of the pending-funds FIFO;
 *  - a surplus that shrank (custody fell without an attested withdrawal) halts the chain.
 * The surplus depends on the chain alone, so a sync needs no ordering against deposits or
 * executions the hub has not applied yet.
 */
import { TxRejected } from './errors.ts';
import { MAX_U128, sha256, toHex } from './bytes.ts';
import { canonicalBytes } from './canonical-json.ts';
import { moduleAddress } from './address.ts';
import type { SignedTx } from './transaction.ts';
import { chainOf, custodyOf, halt, setCustody } from './bridge-accounts.ts';
import { keys, type ChainRecord, type CustodySyncItem, type CustodySyncRecord, type StateOverlay } from './bridge-state.ts';

/** Heights one listener may have open votes on per (chain, asset); an older one gives way. */
const MAX_OPEN_SYNC_VOTES = 8;

/** The hub account top-ups are credited to (a module address: no key holds it). */
export function treasuryAddress(prefix: string): string {
  return moduleAddress(prefix, 'treasury');
}

function emptySync(): CustodySyncRecord {
  return { height: '0', blockHash: '', balance: '0', floor: '0', surplus: '0', credited: '0', votes: {} };
}

/** What identifies one listener's reading: identical readings have identical digests. */
export function custodySyncDigest(item: CustodySyncItem): string {
  return toHex(sha256(canonicalBytes({ ...item })));
}

export function syncCustody(o: StateOverlay, tx: SignedTx<'custody-sync'>): void {
  const { chain } = tx.body;
  const { rec, cursor } = chainOf(o, chain);
  if (!rec.listeners.includes(tx.sender)) throw new TxRejected('NOT_AUTHORIZED', `${tx.sender} is not a listener of ${chain}`);
  if (cursor.halted) throw new TxRejected('CHAIN_HALTED', `chain ${chain} is halted: ${cursor.halted}`);
  for (const item of tx.body.items) {
    const mapping = rec.assets.find((a) => a.chainAsset === item.asset && a.mode === 'lock');
    if (!mapping) throw new TxRejected('UNSUPPORTED_ASSET', `${item.asset} is not a lock-mode asset of ${chain}: its custody is not synced`);
    const key = keys.custodySync(chain, mapping.hubAsset);
    const sync = o.get<CustodySyncRecord>(key) ?? emptySync();
    const height = BigInt(item.blockHeight);
    if (height <= BigInt(sync.height)) continue; // a late vote on a height already synced past
    const digest = custodySyncDigest(item);
    const at = sync.votes[item.blockHeight] ?? { byListener: {}, items: {} };
    const mine = at.byListener[tx.sender];
    if (mine === digest) continue;
    if (mine !== undefined) throw new TxRejected('CONFLICTING_ATTESTATION', `${tx.sender} already attested a different ${item.asset} custody balance at height ${height}`);
    at.byListener[tx.sender] = digest;
    at.items[digest] = item;
    sync.votes[item.blockHeight] = at;
    forgetOldestVotes(sync, tx.sender);
    const agreed = agreedReading(sync, rec.listenerQuorum);
    o.set(key, agreed ? applyReading(o, rec, mapping.hubAsset, mapping.chainDecimals, sync, agreed) : sync);
  }
}

/** Keeps at most MAX_OPEN_SYNC_VOTES open heights for one listener (its lowest go first). */
function forgetOldestVotes(sync: CustodySyncRecord, listener: string): void {
  const mine = Object.keys(sync.votes).filter((h) => sync.votes[h]?.byListener[listener] !== undefined);
  mine.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  for (const h of mine.slice(0, Math.max(0, mine.length - MAX_OPEN_SYNC_VOTES))) {
    const at = sync.votes[h];
    if (!at) continue;
    delete at.byListener[listener];
    const used = new Set(Object.values(at.byListener));
    for (const d of Object.keys(at.items)) if (!used.has(d)) delete at.items[d];
    if (Object.keys(at.byListener).length === 0) delete sync.votes[h];
  }
}

/** The highest height at which `quorum` listeners attested identical readings, or null. */
function agreedReading(sync: CustodySyncRecord, quorum: number): CustodySyncItem | null {
  const heights = Object.keys(sync.votes).sort((a, b) => (BigInt(a) > BigInt(b) ? -1 : 1));
  for (const h of heights) {
    const at = sync.votes[h];
    if (!at) continue;
    const counts = new Map<string, number>();
    for (const d of Object.values(at.byListener)) counts.set(d, (counts.get(d) ?? 0) + 1);
    const digest = [...counts].find(([, n]) => n >= quorum)?.[0];
    const item = digest ? at.items[digest] : undefined;
    if (item) return item;
  }
  return null;
}

/** Chain base units → hub base units, rounded down (dust below one hub unit stays uncredited until it adds up). */
function floorToHub(amount: bigint, chainDecimals: number, hubDecimals: number): bigint {
  return hubDecimals >= chainDecimals ? amount * 10n ** BigInt(hubDecimals - chainDecimals) : amount / 10n ** BigInt(chainDecimals - hubDecimals);
}
function hubToChain(amount: bigint, chainDecimals: number, hubDecimals: number): bigint {
  return hubDecimals >= chainDecimals ? amount / 10n ** BigInt(hubDecimals - chainDecimals) : amount * 10n ** BigInt(chainDecimals - hubDecimals);
}

function applyReading(o: StateOverlay, rec: ChainRecord, hubAsset: string, chainDecimals: number, sync: CustodySyncRecord, item: CustodySyncItem): CustodySyncRecord {
  const votes = Object.fromEntries(Object.entries(sync.votes).filter(([h]) => BigInt(h) > BigInt(item.blockHeight)));
  const out: CustodySyncRecord = { ...sync, votes, height: item.blockHeight, blockHash: item.blockHash, balance: item.balance, floor: item.floor };
  const surplus = BigInt(item.balance) - BigInt(item.floor);
  const before = BigInt(sync.surplus);
  if (surplus < before) {
    halt(o, rec.chain, `custody of ${hubAsset} (${item.asset}) holds ${before - surplus} base units less than deposits, releases and earlier top-ups explain, at block ${item.blockHeight} (${item.blockHash}): funds left custody without an attested withdrawal`);
    return out;
  }
  const hubDecimals = o.base.assets.get(hubAsset)?.decimals ?? 0;
  const credit = floorToHub(surplus - before, chainDecimals, hubDecimals);
  if (credit === 0n) return out;
  const treasury = treasuryAddress(o.base.addressPrefix ?? '');
  const balance = o.balance(treasury, hubAsset) + credit;
  const c = custodyOf(o, rec.chain, hubAsset);
  if (balance > MAX_U128 || c.held + credit > MAX_U128) {
    halt(o, rec.chain, `the top-up of ${hubAsset} at block ${item.blockHeight} would overflow the treasury's balance`);
    return out;
  }
  o.setBalance(treasury, hubAsset, balance);
  setCustody(o, rec.chain, hubAsset, { held: c.held + credit, pendingOut: c.pendingOut });
  return { ...out, surplus: (before + hubToChain(credit, chainDecimals, hubDecimals)).toString(), credited: (BigInt(sync.credited) + credit).toString() };
}
