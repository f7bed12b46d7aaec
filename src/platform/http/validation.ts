import { Ajv, type Options } from 'ajv';
import * as formats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = (formats as unknown as { default: formats.FormatsPlugin }).default;

const base: Options = {
  allErrors: true,
  // Unknown fields are refused (400), never silently dropped: a typo in a field name must not
  // turn into a request that does something else than the client meant.
  removeAdditional: false,
  useDefaults: true,
  strict: false,
};

/**
 * Bodies are validated strictly: a number sent as a string is a client bug and answers 400.
 * Query strings, params and headers are text on the wire, so those coerce (`?limit=10`).
 */
export function installValidators(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}
