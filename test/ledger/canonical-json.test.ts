import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, parseCanonical, type CanonicalValue } from '../../relayer/ledger/canonical-json.ts';

/** The specification, written plainly: every object's keys sorted by UTF-16 code unit, safe integers only. */
function reference(v: CanonicalValue): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError('not a safe integer');
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
  const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(v[k] as CanonicalValue)}`).join(',')}}`;
}

/** The same value with every object's keys inserted in another order. */
function reordered(v: CanonicalValue, pick: (n: number) => number): CanonicalValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((e) => reordered(e, pick));
  const keys = Object.keys(v);
  const out: Record<string, CanonicalValue> = {};
  while (keys.length > 0) {
    const [k] = keys.splice(pick(keys.length), 1) as [string];
    out[k] = reordered(v[k] as CanonicalValue, pick);
  }
  return out;
}

// Keys that stress the ordering: integer-like keys (JavaScript lists them first, numerically), surrogate pairs, case.
const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('0', '1', '10', '9', '01', 'a', 'B', '\u00e9', '\uE000', '\u{1F600}', '__proto__x'));
const value: fc.Arbitrary<CanonicalValue> = fc.letrec<{ v: CanonicalValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.string({ maxLength: 6 }),
    fc.maxSafeInteger(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 6 }),
  ),
})).v;

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code unit, integer-like keys included, with no whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], '10': 0, '9': { z: 1, y: '2' } }), '{"10":0,"9":{"y":"2","z":1},"a":[true,null,"x"],"b":1}');
    assert.equal(canonicalJson({ '\uE000': 1, '\u{1F600}': 2 }), '{"\u{1F600}":2,"\uE000":1}', 'a surrogate pair sorts by its first code unit');
    assert.equal(canonicalJson({ a: 1, b: 2 }), '{"a":1,"b":2}');
  });

  it('writes every value as the specification does, whatever order its keys were inserted in', () => {
    fc.assert(
      fc.property(value, fc.infiniteStream(fc.nat()), (v, picks) => {
        const it = picks[Symbol.iterator]();
        const expected = reference(v);
        assert.equal(canonicalJson(v), expected);
        assert.equal(canonicalJson(reordered(v, (n) => (it.next().value as number) % n)), expected);
        assert.deepEqual(parseCanonical(new TextEncoder().encode(expected)), JSON.parse(expected));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what canonical JSON cannot carry, in sorted and unsorted objects alike', () => {
    for (const bad of [1.5, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => canonicalJson({ a: bad }), RangeError);
      assert.throws(() => canonicalJson({ b: 1, a: [bad] }), RangeError);
      assert.throws(() => canonicalJson([bad]), RangeError);
    }
  });

  it('parseCanonical refuses another spelling of the same value', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    assert.throws(() => parseCanonical(bytes('{"b":1,"a":2}')), /canonical/);
    assert.throws(() => parseCanonical(bytes('{"a": 2}')), /canonical/);
    assert.throws(() => parseCanonical(bytes('{"9":1,"10":2}')), /canonical/);
    assert.deepEqual(parseCanonical(bytes('{"10":2,"9":1}')), { '10': 2, '9': 1 });
  });
});
