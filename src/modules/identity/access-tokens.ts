import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../platform/clock.js';
import type { Principal, Role } from '../../platform/http/auth.js';

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
  readonly #key: Uint8Array;
  constructor(
    private readonly settings: AccessTokenSettings,
    private readonly clock: Clock,
  ) {
    this.#key = new TextEncoder().encode(settings.secret);
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
      .sign(this.#key);
    return { token, expiresIn: this.settings.ttlSeconds };
  }

  readonly verify = async (token: string): Promise<Principal> => {
    const { payload } = await jwtVerify(token, this.#key, {
      algorithms: [ALG],
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      currentDate: this.clock.now(),
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const role = payload.role as Role;
    if (!payload.sub || !ROLES.includes(role)) throw new Error('token lacks subject or role');
    return { id: payload.sub, role };
  };
}
