import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';

/** The one database type every repository takes: PostgreSQL in production, PGlite embedded. */
export type Db = PgDatabase<PgQueryResultHKT>;
/** A transaction handle: repositories accept `Db | Tx` so callers compose them in one transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface DatabaseHandle {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Present for the migrator only. */
  readonly raw: { kind: 'postgres'; pool: pg.Pool } | { kind: 'pglite'; client: PGlite };
}

export interface PostgresOptions {
  /** A connection not established within this fails (503 at the edge) instead of queueing the request. */
  connectTimeoutMs?: number;
  /** A connection's error (server restart, terminated backend); the pool replaces the connection. */
  onError?: (err: Error) => void;
}

export function openPostgres(url: string, poolSize: number, options: PostgresOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: 'mos',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    // MOS's prepared statements (`preparedStatement`, drizzle's `.prepare()`) are index lookups
    // whose best plan does not depend on the values. Left to choose, PostgreSQL plans the order
    // statement afresh on every execution once the tables have statistics (a custom plan), and
    // planning it costs more than running it.
    options: '-c plan_cache_mode=force_generic_plan',
  });
  // A connection that errors must not end the process. The pool listens on idle connections
  // only: a connection checked out for a transaction has no listener while the transaction runs,
  // and a backend terminated then (failover, restart, pg_terminate_backend) would emit an
  // unhandled 'error'. Every connection gets one for its whole life; the query in flight fails
  // with the error (503 at the edge) and the pool drops the broken connection on release.
  const onError = options.onError ?? (() => {});
  pool.on('connect', (client) => client.on('error', onError));
  pool.on('error', () => {});
  const db = drizzlePg(pool) as unknown as Db;
  let ended: Promise<void> | undefined;
  return {
    db,
    kind: 'postgres',
    raw: { kind: 'postgres', pool },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => (ended ??= pool.end()),
  };
}

/**
 * Embedded PostgreSQL (PGlite) on one connection. PGlite runs every query and every transaction
 * under one exclusive lock, so concurrent transactions are serialized — the property that keeps
 * invariant 1 in embedded mode (proved by test/integration/embedded-serialization.test.ts).
 * Consequence for code: inside a transaction, use the `tx` handle only; a query on the root
 * `db` from inside a transaction would wait for the lock that transaction holds.
 */
export async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  let location = dataDir;
  if (!dataDir.startsWith('memory://')) {
    location = join(dataDir, 'pgdata');
    mkdirSync(location, { recursive: true });
  }
  // Loaded here, not at the top: a production process never runs PGlite, and its module is
  // megabytes of code in every API's and worker's heap.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([import('@electric-sql/pglite'), import('drizzle-orm/pglite')]);
  const client = await PGlite.create(location);
  const db = drizzlePglite(client) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    raw: { kind: 'pglite', client },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/** Rows of a raw SQL statement; both drivers answer `{ rows }`. */
export async function queryRows<T>(db: Db | Tx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** A uuid[] column: node-postgres parses it into an array; PGlite may hand back the `{a,b}` text form. */
export function parseUuidArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.slice(1, -1);
  return inner ? inner.split(',') : [];
}
