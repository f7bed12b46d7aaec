import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './idempotency.js';

/**
 * The first canonicalJson, kept verbatim: stored fingerprints are digests of what it printed, so
 * the one-pass form must print the same bytes for every JSON value, or a client's retry after a
 * deploy would meet 422 IDEMPOTENCY_KEY_REUSED instead of its replay.
 */
function firstCanonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Keys as bodies and queries bring them, with the ones JavaScript orders apart: array indices and near misses. */
const key = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.nat().map(String),
  fc.constantFrom(
    '0',
    '7',
    '10',
    '4294967294',
    '4294967295',
    '99999999999',
    '01',
    '-1',
    '1.5',
    '1e3',
    ' 1',
    '__proto__',
    'constructor',
    '',
    'a',
    'B',
    'é',
    '\u{1F600}',
  ),
);

const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('json')),
    fc.dictionary(key, tie('json'), { noNullPrototype: false }),
  ),
}));

describe('canonicalJson', () => {
  it('prints every JSON value byte for byte as its first form did', () => {
    fc.assert(
      fc.property(fc.oneof(json, fc.jsonValue()), (value) => {
        expect(canonicalJson(value)).toBe(firstCanonicalJson(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('prints a request as the plugin fingerprints it (params, a null-prototype query, a body) as its first form did', () => {
    fc.assert(
      fc.property(fc.dictionary(key, fc.string()), fc.dictionary(key, fc.oneof(fc.string(), fc.array(fc.string()))), json, (params, query, body) => {
        const request = { params, query: Object.assign(Object.create(null) as object, query), body };
        expect(canonicalJson(request)).toBe(firstCanonicalJson(request));
      }),
    );
  });

  it('gives the same text whatever order the keys came in', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
  });

  it('lists array-index keys first in numeric order, as the first form did', () => {
    expect(canonicalJson({ b: 1, 10: 'ten', a: 2, 2: 'two', '01': 'x', 4294967295: 'big' })).toBe(
      '{"2":"two","10":"ten","01":"x","4294967295":"big","a":2,"b":1}',
    );
  });

  it('follows JSON.stringify where a value has no JSON form', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined, Number.NaN, -0, Number.POSITIVE_INFINITY], d: new Date(0) })).toBe(
      '{"c":[null,null,0,null],"d":"1970-01-01T00:00:00.000Z"}',
    );
  });
});
