import { Ajv, type Options } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uniqueItems } from './validation.js';

/** The same options as the API's validators; one with ajv's own uniqueItems, one with MOS's. */
const options: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };
const ajvs = (coerceTypes: Options['coerceTypes']) => {
  const own = new Ajv({ ...options, coerceTypes });
  const mos = new Ajv({ ...options, coerceTypes });
  mos.removeKeyword('uniqueItems');
  mos.addKeyword(uniqueItems);
  return { own, mos };
};

const scalar = fc.oneof(
  fc.constantFrom('a', 'b', '1', '0', 'true', 'null', '', 'NaN'),
  fc.uuid(),
  fc.constantFrom(0, -0, 1, 1.5, -2),
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.constantFrom('x', 'y'), scalar, { maxKeys: 2 }));

/** Item schemas: the typed scalars MOS's check handles with a Map, and the rest (compared deeply). */
const itemSchemas = [
  { type: 'string' },
  { type: 'number' },
  { type: 'integer' },
  { type: ['string', 'number'] },
  { type: ['string', 'boolean', 'null'] },
  { type: 'object' },
  { type: 'array' },
  {},
  undefined,
];

describe('uniqueItems (MOS: a Map for arrays of scalars)', () => {
  for (const coerceTypes of [false, 'array'] as const) {
    const { own, mos } = ajvs(coerceTypes);
    for (const items of itemSchemas) {
      const schema = { type: 'array', uniqueItems: true, ...(items ? { items } : {}) };
      const [ownValidate, mosValidate] = [own.compile(schema), mos.compile(schema)];
      it(`answers as ajv's own, with the same errors: items ${JSON.stringify(items)}, coerceTypes ${coerceTypes}`, () => {
        fc.assert(
          fc.property(fc.array(value, { maxLength: 8 }), (data) => {
            const [a, b] = [structuredClone(data), structuredClone(data)];
            expect(mosValidate(b)).toBe(ownValidate(a));
            expect(mosValidate.errors ?? null).toEqual(ownValidate.errors ?? null);
            expect(b).toEqual(a);
          }),
          { numRuns: 300 },
        );
      });
    }
  }

  it('finds the duplicate pair ajv names, and tells 1 from "1" but not 0 from -0', () => {
    const { mos } = ajvs(false);
    const validate = mos.compile({ type: 'array', uniqueItems: true, items: { type: ['string', 'number'] } });
    expect(validate(['x', 'y', 'z', 'y'])).toBe(false);
    expect(validate.errors).toMatchObject([
      { keyword: 'uniqueItems', params: { i: 1, j: 3 }, message: 'must NOT have duplicate items (items ## 3 and 1 are identical)' },
    ]);
    expect(validate([1, '1'])).toBe(true);
    expect(validate([0, -0])).toBe(false);
  });
});
