import { _, Ajv, str, type CodeKeywordDefinition, type ErrorObject, type KeywordCxt, type Options } from 'ajv';
import * as formats from 'ajv-formats';
import { checkDataTypes, DataType, getSchemaTypes } from 'ajv/dist/compile/validate/dataType.js';
import { useFunc } from 'ajv/dist/compile/util.js';
import deepEqual from 'ajv/dist/runtime/equal.js';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FastifyInstance } from 'fastify';
import { TRIM, UUID_PATTERN } from './schemas.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = (formats as unknown as { default: formats.FormatsPlugin }).default;
// So does ajv's deep equal, except where a bundler (vitest) unwraps it already.
const equal = 'code' in deepEqual ? (deepEqual as unknown as typeof deepEqual.default) : deepEqual.default;

const base: Options = {
  allErrors: true,
  // Unknown fields are refused (400), never silently dropped: a typo in a field name must not
  // turn into a request that does something else than the client meant.
  removeAdditional: false,
  useDefaults: true,
  strict: false,
};

/** Added to every request schema's root by the compiler below; see `unstorableText`. */
const STORABLE_TEXT = 'x-storable-text';

/**
 * Bodies are validated strictly: a number sent as a string is a client bug and answers 400.
 * Query strings, params and headers are text on the wire, so those coerce (`?limit=10`).
 * Every body, query string and path is also held to the storable-text rule, whatever its schema
 * declares (coupon `params` are free-form JSON that lands in jsonb).
 */
export function installValidators(app: FastifyInstance): void {
  const strict = withMosRules(new Ajv({ ...base, coerceTypes: false }));
  const coercing = withMosRules(new Ajv({ ...base, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'headers' ? coercing.compile(schema) : (httpPart === 'body' ? strict : coercing).compile({ ...schema, [STORABLE_TEXT]: true }),
  );
}

function withMosRules(ajv: Ajv): Ajv {
  addFormats(ajv);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword(uniqueItems);

  // ajv-formats takes RFC 3339 at its word: a leap second (23:59:60) and an hour-only offset
  // (+09) pass, but JavaScript's Date cannot represent them, and the service would turn them
  // into an Invalid Date (a 500). A date-time is valid when both agree.
  const rfc3339 = fullFormats['date-time'] as { validate: (s: string) => boolean; compare: (a: string, b: string) => number | undefined };
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => rfc3339.validate(s) && withinDatabaseRange(Date.parse(s)),
    compare: rfc3339.compare,
  });
  // ajv-formats also accepts the `urn:uuid:` form, which PostgreSQL's uuid type refuses.
  ajv.addFormat('uuid', UUID_PATTERN);

  const storable: { (enabled: boolean, data: unknown): boolean; errors?: Partial<ErrorObject>[] } = (enabled, data) => {
    if (!enabled || !hasUnstorableText(data)) return true;
    storable.errors = unstorableText(data);
    return false;
  };
  ajv.addKeyword({ keyword: STORABLE_TEXT, schemaType: 'boolean', errors: true, validate: storable });

  // Runs before the length and pattern rules (`before`), and rebinds the value they see, so a
  // name of only spaces fails `minLength: 1` instead of being stored as "". The same code as
  // ajv-keywords' `transform`, which runs last and so cannot serve here.
  ajv.addKeyword({
    keyword: TRIM,
    type: 'string',
    schemaType: 'boolean',
    before: 'maxLength',
    code(cxt: KeywordCxt) {
      const { gen, data, it } = cxt;
      if (cxt.schema !== true) return;
      gen.assign(data, _`${data}.trim()`);
      gen.if(_`${it.parentData} !== undefined`, () => gen.assign(_`${it.parentData}[${it.parentDataProperty}]`, data));
    },
  });
  return ajv;
}

/**
 * ajv's own `uniqueItems`, the same rule with the same errors, save how an array of scalars (the
 * seat ids of every hold and order) is checked. ajv files each item as a property of a fresh
 * object, `indices[item] = i`: every request's new seat ids are property names V8 has not seen, so
 * each one interns a string and makes a new hidden class — about 2 µs a request alone, more under
 * load, the largest part of a hold's validation. A `Map` keyed by the items is the same check
 * without that: SameValueZero tells 1 from "1" (ajv suffixed strings for that) and treats NaN, 0
 * and -0 as the property names did. Arrays of objects or arrays still compare deeply, pair by pair.
 */
export const uniqueItems: CodeKeywordDefinition = {
  keyword: 'uniqueItems',
  type: 'array',
  schemaType: 'boolean',
  $data: true,
  error: {
    message: ({ params: { i, j } }) => str`must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
    params: ({ params: { i, j } }) => _`{i: ${i}, j: ${j}}`,
  },
  code(cxt: KeywordCxt) {
    const { gen, data, $data, schema, parentSchema, schemaCode, it } = cxt;
    if (!$data && !schema) return;
    const valid = gen.let('valid');
    const itemTypes = parentSchema.items ? getSchemaTypes(parentSchema.items) : [];
    const scalars = itemTypes.length > 0 && !itemTypes.some((t) => t === 'object' || t === 'array');
    cxt.block$data(
      valid,
      () => {
        const i = gen.let('i', _`${data}.length`);
        const j = gen.let('j');
        cxt.setParams({ i, j });
        gen.assign(valid, true);
        gen.if(_`${i} > 1`, () => {
          if (scalars) {
            const item = gen.name('item');
            const wrongType = checkDataTypes(itemTypes, item, it.opts.strictNumbers, DataType.Wrong);
            const seen = gen.const('seen', _`new Map()`);
            gen.for(_`;${i}--;`, () => {
              gen.let(item, _`${data}[${i}]`);
              gen.if(wrongType, _`continue`);
              gen
                .if(_`${seen}.has(${item})`, () => {
                  gen.assign(j, _`${seen}.get(${item})`);
                  cxt.error();
                  gen.assign(valid, false).break();
                })
                .code(_`${seen}.set(${item}, ${i})`);
            });
          } else {
            const eql = useFunc(gen, equal);
            const outer = gen.name('outer');
            gen.label(outer).for(_`;${i}--;`, () =>
              gen.for(_`${j} = ${i}; ${j}--;`, () =>
                gen.if(_`${eql}(${data}[${i}], ${data}[${j}])`, () => {
                  cxt.error();
                  gen.assign(valid, false).break(outer);
                }),
              ),
            );
          }
        });
      },
      _`${schemaCode} === false`,
    );
    cxt.ok(valid);
  },
};

/**
 * Years 1 to 9999: outside them Date's toISOString(), which is how a Date reaches the database,
 * writes a form PostgreSQL does not read (year 0, or a six-digit year).
 */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const withinDatabaseRange = (ms: number) => ms >= EARLIEST && ms <= LATEST;

/**
 * PostgreSQL refuses NUL in text and jsonb, and an unpaired surrogate in jsonb (in text it would
 * be silently replaced by U+FFFD) — and the driver's error is a 500. No legitimate input holds
 * either, so they are refused at the door, for every string and field name of the request.
 */
const storableString = (s: string) => s.isWellFormed() && !s.includes('\0');

/** The fast pass, run on every request: no allocation but the walk's stack. */
function hasUnstorableText(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (!storableString(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (!storableString(key)) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** At most this many errors: a body full of NULs must not make an answer as large. */
const MAX_TEXT_ERRORS = 20;
const TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** The slow pass, only for a request already known to be refused: where the bad text is. */
function unstorableText(root: unknown): Partial<ErrorObject>[] {
  const errors: Partial<ErrorObject>[] = [];
  const fail = (instancePath: string, message = TEXT_MESSAGE) => errors.push({ keyword: STORABLE_TEXT, instancePath, message, params: {} });
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length && errors.length < MAX_TEXT_ERRORS) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (!storableString(value)) fail(path);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, `${path}/${i}`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (!storableString(key)) fail(path, `field names ${TEXT_MESSAGE}`);
        else stack.push([item, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`]);
      }
    }
  }
  return errors;
}
