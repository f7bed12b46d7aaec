import { Type, type TSchema } from '@sinclair/typebox';
import { CommonErrors } from './errors.js';
import { StrictObject } from './schemas.js';

/**
 * Keyset pagination (API.md "Lists"): `?limit=` 1–100 (default 20) and an opaque `?cursor=`
 * that encodes the sort key of the last item returned. Never OFFSET: page N costs the same as
 * page 1 however deep the list.
 */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

export const PageQuerySchema = StrictObject(PageQuery);

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key;
  } catch {
    // fall through to the 400 below
  }
  throw CommonErrors.VALIDATION_FAILED('Invalid cursor', { errors: [{ path: '/querystring/cursor', message: 'invalid cursor' }] });
}

/**
 * Fetch `limit + 1` rows, then call this: it trims the extra row and derives the next cursor
 * from the last row kept.
 */
export function toPage<R, I>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => readonly (string | number)[],
  map: (row: R) => I,
): { items: I[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), nextCursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
