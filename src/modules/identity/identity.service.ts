import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Tx } from '../../platform/db/client.js';
import { CommonErrors } from '../../platform/http/errors.js';
import type { Principal, Role } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import type { AccessTokens } from './access-tokens.js';
import { IdentityErrors } from './identity.errors.js';
import type { IdentityRepository, UserRow } from './identity.repository.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface IdentityServiceDeps {
  repo: IdentityRepository;
  tokens: AccessTokens;
  clock: Clock;
  refreshTokenTtlSeconds: number;
}

const normalizeEmail = (email: string) => email.trim().toLowerCase();
const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const toView = (u: UserRow): UserView => ({ id: u.id, email: u.email, name: u.name, role: u.role });

/** Sign-up, sessions and the refresh-token families. */
export class IdentityService {
  constructor(private readonly deps: IdentityServiceDeps) {}

  async signup(input: { email: string; password: string; name: string; role?: 'BUYER' | 'SELLER' }): Promise<UserView> {
    return this.createUser({ ...input, role: input.role ?? 'BUYER' });
  }

  /** Any role, ADMIN included: for the CLI and demo data only, never reachable by HTTP signup. */
  async createUser(input: { email: string; password: string; name: string; role: Role }): Promise<UserView> {
    const user = await this.deps.repo.insertUser({
      id: newId(),
      email: normalizeEmail(input.email),
      name: input.name.trim(),
      role: input.role,
      passwordHash: await hashPassword(input.password),
      createdAt: this.deps.clock.now(),
    });
    return toView(user);
  }

  /** Creates the user unless the address is taken (demo data: running twice adds nothing). */
  async ensureUser(input: { email: string; password: string; name: string; role: Role }): Promise<UserView> {
    const existing = await this.deps.repo.findUserByEmail(normalizeEmail(input.email));
    return existing ? toView(existing) : this.createUser(input);
  }

  /** Creates the user, or (for `mos admin create` run twice) resets its role and password. */
  async upsertUser(input: { email: string; password: string; name: string; role: Role }): Promise<UserView> {
    const existing = await this.deps.repo.findUserByEmail(normalizeEmail(input.email));
    if (!existing) return this.createUser(input);
    return toView(await this.deps.repo.updateUserRoleAndPassword(existing.id, input.role, await hashPassword(input.password)));
  }

  async login(input: { email: string; password: string }): Promise<TokenPair> {
    const user = await this.deps.repo.findUserByEmail(normalizeEmail(input.email));
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), input.password);
    if (!user || !ok) throw IdentityErrors.INVALID_CREDENTIALS();
    const familyId = newId();
    const now = this.deps.clock.now();
    const refreshToken = await this.deps.repo.transaction(async (tx) => {
      await this.deps.repo.insertFamily({ id: familyId, userId: user.id, createdAt: now }, tx);
      return this.#issueRefreshToken(familyId, now, tx);
    });
    return this.#pair({ id: user.id, role: user.role }, refreshToken);
  }

  /**
   * Rotation with reuse detection: a refresh token is spent the first time it is presented and
   * replaced by a new one of the same family. A spent token presented again revokes the family,
   * so a stolen token stops working for the thief and the victim alike.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.deps.clock.now();
    const outcome = await this.deps.repo.transaction(async (tx) => {
      const token = await this.deps.repo.findRefreshTokenForUpdate(hashToken(refreshToken), tx);
      if (!token) return { kind: 'invalid' as const };
      const spentBefore = token.spentAt !== null;
      if (!spentBefore && (token.familyRevokedAt || token.expiresAt <= now)) return { kind: 'invalid' as const };
      if (spentBefore || !(await this.deps.repo.spendRefreshToken(token.id, now, tx))) {
        // Committed, not thrown: the revocation must survive this transaction.
        await this.deps.repo.revokeFamily(token.familyId, now, 'reuse', tx);
        return { kind: 'reused' as const };
      }
      const user = await this.deps.repo.findUserById(token.userId, tx);
      if (!user) return { kind: 'invalid' as const };
      const next = await this.#issueRefreshToken(token.familyId, now, tx);
      return { kind: 'rotated' as const, principal: { id: user.id, role: user.role }, next };
    });
    if (outcome.kind === 'reused') throw IdentityErrors.REFRESH_TOKEN_REUSED();
    if (outcome.kind === 'invalid') throw CommonErrors.UNAUTHENTICATED('The refresh token is invalid or expired');
    return this.#pair(outcome.principal, outcome.next);
  }

  /** Ends the session the token belongs to. Unknown tokens are ignored: logout always succeeds. */
  async logout(refreshToken: string): Promise<void> {
    const familyId = await this.deps.repo.findFamilyOfToken(hashToken(refreshToken));
    if (familyId) await this.deps.repo.revokeFamily(familyId, this.deps.clock.now(), 'logout');
  }

  async me(userId: string): Promise<UserView> {
    const user = await this.deps.repo.findUserById(userId);
    if (!user) throw CommonErrors.UNAUTHENTICATED('The account no longer exists');
    return toView(user);
  }

  purgeExpiredRefreshTokens(): Promise<number> {
    return this.deps.repo.purgeExpiredRefreshTokens(this.deps.clock.now());
  }

  async #issueRefreshToken(familyId: string, now: Date, tx: Tx): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.deps.repo.insertRefreshToken(
      {
        id: newId(),
        familyId,
        tokenHash: hashToken(token),
        issuedAt: now,
        expiresAt: new Date(now.getTime() + this.deps.refreshTokenTtlSeconds * 1000),
      },
      tx,
    );
    return token;
  }

  async #pair(principal: Principal, refreshToken: string): Promise<TokenPair> {
    const access = await this.deps.tokens.issue(principal);
    return { accessToken: access.token, refreshToken, tokenType: 'Bearer', expiresIn: access.expiresIn };
  }
}
