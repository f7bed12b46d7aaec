import { Type, type ObjectOptions, type StringOptions, type TProperties, type TSchema } from '@sinclair/typebox';

/** A request object that refuses unknown fields (400 VALIDATION_FAILED). */
export const StrictObject = <T extends TProperties>(properties: T, options: ObjectOptions = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

/** The hyphenated form only: ajv-formats would also take `urn:uuid:…`, which PostgreSQL refuses. */
export const UUID_PATTERN = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/** The keyword that trims a string before its length and pattern rules run (validation.ts). */
export const TRIM = 'x-trim';

/**
 * A name-like field (a person's or venue's name, a title, a label): surrounding whitespace is
 * trimmed, then it must still be 1 to `maxLength` characters — a name of only spaces is refused
 * rather than stored as "".
 */
export const Name = (maxLength: number, options: StringOptions = {}) => Type.String({ minLength: 1, maxLength, ...options, [TRIM]: true });

export const Uuid = Type.String({ format: 'uuid', description: 'UUIDv7' });
export const DateTime = Type.String({ format: 'date-time', description: 'ISO 8601 with offset' });
export const IdParams = StrictObject({ id: Uuid });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable UPPER_SNAKE error code' }),
    detail: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

const problemRef = Type.Ref('Problem');

/**
 * Response entries for the problem statuses a route can answer, for the OpenAPI document.
 * (Problems are serialized by the error handler itself, so these only document.)
 */
export function problems(...statuses: number[]): Record<number, { description: string; content: Record<string, { schema: TSchema }> }> {
  return Object.fromEntries(statuses.map((s) => [s, { description: `Problem (${s})`, content: { 'application/problem+json': { schema: problemRef } } }]));
}

/** 204 with no body. */
export const NoContent = Type.Null({ description: 'No content' });
