/**
 * Amount conversion between hub base units and a chain's base units, shared by every
 * adapter: each family passes the widest integer it can carry (EVM uint256, SPL u64).
 * An amount that would lose digits or overflow either side is refused, never rounded.
 */
import { KlxError } from '../relayer/ledger/errors.ts';
import { rescaleAmount } from '../relayer/ledger/chain-families.ts';
import { MAX_U128 } from '../relayer/ledger/bytes.ts';
import { UnrepresentableAmount, type ChainAssetSpec } from './chain-adapter.ts';

export interface ChainInteger {
  max: bigint;
  /** e.g. "uint256", "u64" */
  name: string;
}

function checkDecimals(spec: ChainAssetSpec): void {
  const ok = (d: number) => Number.isInteger(d) && d >= 0 && d <= 77;
  if (!ok(spec.decimals) || !ok(spec.hubDecimals)) {
    throw new KlxError('BAD_ASSET_SPEC', `asset ${spec.chainAsset}: decimals must be whole numbers from 0 to 77`, false);
  }
}

export function hubToChainUnits(chain: string, width: ChainInteger, spec: ChainAssetSpec, hubAmount: bigint): bigint {
  checkDecimals(spec);
  if (hubAmount <= 0n) throw new UnrepresentableAmount(chain, `amount must be positive (got ${hubAmount})`);
  const amount = rescaleAmount(hubAmount, spec.hubDecimals, spec.decimals);
  if (amount === null) {
    throw new UnrepresentableAmount(chain, `${spec.chainAsset} has ${spec.decimals} decimals on this chain: ${hubAmount} hub units would lose digits`);
  }
  if (amount > width.max) throw new UnrepresentableAmount(chain, `${amount} base units exceed ${width.name}`);
  return amount;
}

export function chainToHubUnits(chain: string, width: ChainInteger, spec: ChainAssetSpec, chainAmount: bigint): bigint {
  checkDecimals(spec);
  if (chainAmount < 0n || chainAmount > width.max) throw new UnrepresentableAmount(chain, `${chainAmount} is not a ${width.name} amount`);
  const hub = rescaleAmount(chainAmount, spec.decimals, spec.hubDecimals);
  if (hub === null) {
    throw new UnrepresentableAmount(chain, `the hub carries ${spec.chainAsset} with ${spec.hubDecimals} decimals: ${chainAmount} base units would lose digits`);
  }
  if (hub > MAX_U128) throw new UnrepresentableAmount(chain, `${hub} hub units exceed the hub's u128 balances`);
  return hub;
}
