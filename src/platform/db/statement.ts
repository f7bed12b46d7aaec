import type { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from './client.js';

/**
 * A statement of fixed text with positional parameters (`$1`, `$2`, …), for the hottest write
 * paths. PostgreSQL parses and plans it once per pooled connection (a named prepared statement),
 * and nothing is rebuilt per call the way a query builder rebuilds its SQL. PGlite runs the same
 * text unnamed. Runs on the root handle, in autocommit: one statement is one transaction.
 */
export function preparedStatement<T>(name: string, text: string): (db: Db, values: readonly unknown[]) => Promise<T[]> {
  return async (db, values) => {
    const client = (db as unknown as { $client?: pg.Pool | PGlite }).$client;
    // A transaction handle has no client of its own: the statement is its own transaction.
    if (!client) throw new Error(`${name} runs on the root database handle, not inside a transaction`);
    if (client instanceof pg.Pool) return (await client.query<T & pg.QueryResultRow>({ name, text, values: values as unknown[] })).rows;
    return (await client.query<T>(text, values as unknown[])).rows;
  };
}

/**
 * One module's part in a statement that several modules write together (one `WITH` query, one
 * round trip, atomic without a transaction around it). `lock` selects and locks `FOR UPDATE` the
 * rows the part needs, in a fixed order; `apply(locked, go)` writes them, reading the locked rows
 * from the CTE named `locked`, only where the SQL boolean `go` holds — the composing statement
 * decides `go` once every part has its locks. Each module writes the SQL of its own tables
 * (docs/architecture.md §3); the composer only arranges the parts. Parameters are the caller's placeholders
 * (`$n` with their casts), so the composed text stays fixed and can be prepared.
 */
export interface StatementPart {
  /** A `SELECT … FOR UPDATE` whose rows are the part's lockable rows. */
  readonly lock: string;
  /** A further SQL boolean the part needs to hold for the statement to go ahead (default: true). */
  readonly check?: string;
  /** A data-modifying statement on the rows of the CTE `locked`, effective only where `go` is true. */
  apply(locked: string, go: string): string;
}

/**
 * The positional parameters of a fixed statement, declared once by name and SQL type: `p.name` is
 * the placeholder text (`$n::type`) to write into the statement, `values(input)` the values in the
 * same order. The statement's text and its values cannot drift apart, and a reader sees names.
 */
export function parameters<const S extends Record<string, string>>(
  types: S,
): { p: { readonly [K in keyof S]: string }; values(input: { readonly [K in keyof S]: unknown }): unknown[] } {
  const names = Object.keys(types) as (keyof S & string)[];
  const p = Object.fromEntries(names.map((name, i) => [name, `$${i + 1}::${types[name]}`])) as { [K in keyof S]: string };
  return { p, values: (input) => names.map((name) => input[name]) };
}

/**
 * A fixed statement's text with positional parameters (`$n`), as a query-builder `SQL` with
 * `values` bound: so the text a composed statement is made of also runs inside a transaction
 * (`queryRows(tx, …)`), where a prepared statement on the root handle cannot.
 */
export function positionalSql(text: string, values: readonly unknown[]): SQL {
  const chunks: SQL[] = [];
  let last = 0;
  for (const m of text.matchAll(/\$(\d+)(?!\d)/g)) {
    const n = Number(m[1]);
    if (n < 1 || n > values.length) throw new Error(`no value for $${n}`);
    chunks.push(sql.raw(text.slice(last, m.index)), sql`${sql.param(values[n - 1])}`);
    last = m.index + m[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}
