import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../platform/db/client.js';
import { isUniqueViolation } from '../../platform/db/errors.js';
import type { Role } from '../../platform/http/auth.js';
import { IdentityErrors } from './identity.errors.js';
import { refreshTokenFamilies, refreshTokens, users } from './identity.tables.js';

export type UserRow = typeof users.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect & { familyRevokedAt: Date | null; userId: string };

/** Every SQL statement of the identity module. */
export class IdentityRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insertUser(user: typeof users.$inferInsert, db: Db | Tx = this.db): Promise<UserRow> {
    try {
      const [row] = await db.insert(users).values(user).returning();
      return row!;
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_unique')) throw IdentityErrors.EMAIL_TAKEN();
      throw err;
    }
  }

  async findUserByEmail(email: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email)).limit(1);
    return row;
  }

  async findUserById(id: string, db: Db | Tx = this.db): Promise<UserRow | undefined> {
    const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }

  async updateUserRoleAndPassword(id: string, role: Role, passwordHash: string): Promise<UserRow> {
    const [row] = await this.db.update(users).set({ role, passwordHash }).where(eq(users.id, id)).returning();
    return row!;
  }

  async insertFamily(family: typeof refreshTokenFamilies.$inferInsert, db: Db | Tx = this.db): Promise<void> {
    await db.insert(refreshTokenFamilies).values(family);
  }

  async insertRefreshToken(token: typeof refreshTokens.$inferInsert, db: Db | Tx = this.db): Promise<void> {
    await db.insert(refreshTokens).values(token);
  }

  /** The token with its family, locked for the rest of the caller's transaction. */
  async findRefreshTokenForUpdate(tokenHash: string, tx: Tx): Promise<RefreshTokenRow | undefined> {
    const [row] = await tx
      .select({
        id: refreshTokens.id,
        familyId: refreshTokens.familyId,
        tokenHash: refreshTokens.tokenHash,
        issuedAt: refreshTokens.issuedAt,
        expiresAt: refreshTokens.expiresAt,
        spentAt: refreshTokens.spentAt,
        familyRevokedAt: refreshTokenFamilies.revokedAt,
        userId: refreshTokenFamilies.userId,
      })
      .from(refreshTokens)
      .innerJoin(refreshTokenFamilies, eq(refreshTokenFamilies.id, refreshTokens.familyId))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .for('update', { of: [refreshTokens, refreshTokenFamilies] })
      .limit(1);
    return row;
  }

  /**
   * Spends a token once: the `spent_at IS NULL` condition and the row lock make two concurrent
   * refreshes with one token produce exactly one successor (the other is treated as reuse).
   */
  async spendRefreshToken(id: string, at: Date, tx: Tx): Promise<boolean> {
    const rows = await tx
      .update(refreshTokens)
      .set({ spentAt: at })
      .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.spentAt)))
      .returning({ id: refreshTokens.id });
    return rows.length === 1;
  }

  async revokeFamily(familyId: string, at: Date, reason: string, db: Db | Tx = this.db): Promise<void> {
    await db
      .update(refreshTokenFamilies)
      .set({ revokedAt: at, revokedReason: reason })
      .where(and(eq(refreshTokenFamilies.id, familyId), isNull(refreshTokenFamilies.revokedAt)));
  }

  async findFamilyOfToken(tokenHash: string): Promise<string | undefined> {
    const [row] = await this.db.select({ familyId: refreshTokens.familyId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).limit(1);
    return row?.familyId;
  }

  /** Deletes tokens past expiry, then families left without tokens. */
  async purgeExpiredRefreshTokens(before: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      const gone = await tx.delete(refreshTokens).where(lt(refreshTokens.expiresAt, before)).returning({ id: refreshTokens.id });
      // A family with no token left can never be presented again.
      await tx.execute(sql`delete from refresh_token_families f where not exists (select 1 from refresh_tokens t where t.family_id = f.id)`);
      return gone.length;
    });
  }
}
