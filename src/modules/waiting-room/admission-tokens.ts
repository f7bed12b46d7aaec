import { createSecretKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../platform/clock.js';
import { VerifiedTokenCache } from '../../platform/http/verified-tokens.js';

const ALG = 'HS256';
/** A separate audience: an admission token is never an access token, nor the reverse. */
const AUDIENCE = 'mos-admission';

/**
 * Short-lived proof of admission, bound to one buyer and one showtime. It is necessary but not
 * sufficient: the guard also checks the buyer is still in the active set, so leaving the queue
 * or an expired admission ends it at once (invariant 5).
 */
export class AdmissionTokens {
  readonly #key: KeyObject;
  readonly #verified = new VerifiedTokenCache<{ sub: string; sch: string }>(50_000);
  constructor(
    secret: string,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  async issue(userId: string, scheduleId: string, expiresAtMs: number): Promise<string> {
    return new SignJWT({ sch: scheduleId })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt(Math.floor(this.clock.now().getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAtMs / 1000))
      .sign(this.#key);
  }

  /** True only for an unexpired token of this buyer for this showtime. */
  async valid(token: string, userId: string, scheduleId: string): Promise<boolean> {
    const now = this.clock.now();
    let claims = this.#verified.get(token, now.getTime());
    if (!claims) {
      try {
        const { payload } = await jwtVerify(token, this.#key, {
          algorithms: [ALG],
          issuer: this.issuer,
          audience: AUDIENCE,
          currentDate: now,
          requiredClaims: ['sub', 'exp'],
        });
        claims = { sub: String(payload.sub), sch: String(payload.sch) };
        this.#verified.set(token, claims, payload.exp! * 1000);
      } catch {
        return false;
      }
    }
    return claims.sub === userId && claims.sch === scheduleId;
  }
}
