import { webcrypto } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../platform/clock.js';
import type { Principal, Role } from '../../platform/http/auth.js';
import { VerifiedTokenCache } from '../../platform/http/verified-tokens.js';

export interface AccessTokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

const ALG = 'HS256';
const ROLES: readonly Role[] = ['BUYER', 'SELLER', 'ADMIN'];

/**
 * Short-lived JWT access tokens. Verification pins the algorithm (so `alg: none` and key
 * confusion are refused), checks issuer, audience and expiry against the injected clock.
 */
export class AccessTokens {
  /** Imported once: jose would import a raw secret again on every call. */
  readonly #key: Promise<webcrypto.CryptoKey>;
  readonly #verified = new VerifiedTokenCache<Principal>(50_000);
  constructor(
    private readonly settings: AccessTokenSettings,
    private readonly clock: Clock,
  ) {
    this.#key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(settings.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  async issue(principal: Principal): Promise<{ token: string; expiresIn: number }> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const token = await new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(principal.id)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + this.settings.ttlSeconds)
      .sign(await this.#key);
    return { token, expiresIn: this.settings.ttlSeconds };
  }

  readonly verify = async (token: string): Promise<Principal> => {
    const now = this.clock.now().getTime();
    const known = this.#verified.get(token, now);
    if (known) return known;
    const { payload } = await jwtVerify(token, await this.#key, {
      algorithms: [ALG],
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      currentDate: this.clock.now(),
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const role = payload.role as Role;
    if (!payload.sub || !ROLES.includes(role)) throw new Error('token lacks subject or role');
    const principal: Principal = { id: payload.sub, role };
    this.#verified.set(token, principal, payload.exp! * 1000);
    return principal;
  };
}
