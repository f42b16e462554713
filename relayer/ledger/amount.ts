/**
 * Amounts are integers of base units (bigint), written in JSON as decimal strings.
 * No floats anywhere. The hub's ceiling is u128.
 */
import { MAX_U128 } from './bytes.ts';
import { TxRejected } from './errors.ts';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Parses a positive base-unit amount; zero, negative, fractional, non-string or > u128 are refused. */
export function parseAmount(value: unknown, field = 'amount'): bigint {
  if (typeof value !== 'string') {
    throw new TxRejected('BAD_AMOUNT', `${field} must be a decimal string of base units`, { field });
  }
  if (!DECIMAL.test(value)) {
    throw new TxRejected('BAD_AMOUNT', `${field} must be a non-negative integer without sign, decimals or leading zeros`, { field });
  }
  if (value.length > 40) throw new TxRejected('AMOUNT_OVERFLOW', `${field} exceeds the hub's u128 limit`, { field });
  const n = BigInt(value);
  if (n === 0n) throw new TxRejected('BAD_AMOUNT', `${field} must be greater than zero`, { field });
  if (n > MAX_U128) throw new TxRejected('AMOUNT_OVERFLOW', `${field} exceeds the hub's u128 limit`, { field });
  return n;
}

/** Formats base units as a decimal string with `decimals` places, for people (never parsed back by the ledger). */
export function formatUnits(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const s = amount.toString().padStart(decimals + 1, '0');
  const whole = s.slice(0, -decimals);
  const frac = s.slice(-decimals).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}
