import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, queryRows, type DatabaseHandle } from '../../src/platform/db/client.js';

/**
 * docs/architecture.md §2: PGlite runs on one connection, so embedded mode keeps invariant 1 only if
 * concurrent transactions are serialized. Read-then-write without any row lock is the race
 * that loses updates on a real server; serialized, it cannot.
 */
describe('embedded database', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openPglite('memory://');
    await handle.db.execute(sql`create table counter (id int primary key, n int not null)`);
    await handle.db.execute(sql`insert into counter values (1, 0)`);
  });
  afterAll(() => handle.close());

  it('serializes 50 concurrent read-then-increment transactions: the row ends at exactly 50', async () => {
    await Promise.all(
      Array.from({ length: 50 }, () =>
        handle.db.transaction(async (tx) => {
          const [row] = await queryRows<{ n: number }>(tx, sql`select n from counter where id = 1`);
          const n = Number(row!.n);
          // Yield to the event loop between read and write, where an interleaving would happen.
          await new Promise((r) => setImmediate(r));
          await tx.execute(sql`update counter set n = ${n + 1} where id = 1`);
        }),
      ),
    );
    const [row] = await queryRows<{ n: number }>(handle.db, sql`select n from counter where id = 1`);
    expect(Number(row!.n)).toBe(50);
  });

  it('rolls a failed transaction back without disturbing the others', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        handle.db.transaction(async (tx) => {
          await tx.execute(sql`update counter set n = n + 1 where id = 1`);
          if (i % 2 === 0) throw new Error('abort');
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(5);
    const [row] = await queryRows<{ n: number }>(handle.db, sql`select n from counter where id = 1`);
    expect(Number(row!.n)).toBe(55);
  });
});
