import { Type, type TSchema } from '@sinclair/typebox';
import { CommonErrors } from './errors.js';
import { StrictObject, UUID_PATTERN } from './schemas.js';

/**
 * Keyset pagination (docs/api.md, Conventions): `?limit=` 1–100 (default 20) and an opaque `?cursor=`
 * that encodes the id of the last item returned — every list sorts by id (UUIDv7 ids sort by
 * creation). Never OFFSET: page N costs the same as page 1 however deep the list.
 */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

export const PageQuerySchema = StrictObject(PageQuery);

export const Page = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** A one-element array, so a cursor can grow a sort key without breaking the ones handed out. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify([lastId])).toString('base64url');
}

/**
 * The id a cursor continues after. Anything else answers 400 — the id goes into a uuid
 * comparison, where PostgreSQL would refuse it with a 500.
 */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 1 && typeof key[0] === 'string' && UUID_PATTERN.test(key[0])) return key[0];
  } catch {
    // fall through to the 400 below
  }
  throw CommonErrors.VALIDATION_FAILED('Invalid cursor', { errors: [{ path: '/querystring/cursor', message: 'invalid cursor' }] });
}

/**
 * Fetch `limit + 1` rows, then call this: it trims the extra row and derives the next cursor
 * from the last row kept.
 */
export function toPage<R extends { id: string }, I>(rows: R[], limit: number, map: (row: R) => I): { items: I[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), nextCursor: more && last !== undefined ? encodeCursor(last.id) : null };
}
