import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { givenAdmin, givenBuyer, givenSeller, uniqueEmail } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('identity', () => {
  let t: TestApp;
  const clock = new ManualClock('2026-11-28T00:00:00Z');
  beforeAll(async () => {
    t = await createTestApp({ context: { clock } });
  });
  afterAll(() => t.cleanup());

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, payload: payload as object, headers });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });

  describe('signup', () => {
    it('creates a buyer by default and never returns the password', async () => {
      const email = uniqueEmail();
      const res = await post('/v1/auth/signup', { email, password: 'long enough 1', name: 'Kim' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ id: expect.any(String), email, name: 'Kim', role: 'BUYER' });
      expect(res.body).not.toContain('long enough 1');
    });

    it('creates a seller when asked', async () => {
      const res = await post('/v1/auth/signup', { email: uniqueEmail(), password: 'long enough 1', name: 'Lee', role: 'SELLER' });
      expect(res.json().role).toBe('SELLER');
    });

    it('refuses to make an ADMIN', async () => {
      const res = await post('/v1/auth/signup', { email: uniqueEmail(), password: 'long enough 1', name: 'Eve', role: 'ADMIN' });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    });

    it('answers 409 EMAIL_TAKEN for a taken address, whatever its case', async () => {
      const email = uniqueEmail();
      await post('/v1/auth/signup', { email, password: 'long enough 1', name: 'A' });
      const res = await post('/v1/auth/signup', { email: email.toUpperCase(), password: 'long enough 2', name: 'B' });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('EMAIL_TAKEN');
    });

    it.each([
      ['a short password', { password: 'short' }],
      ['a password over 128 characters', { password: 'x'.repeat(129) }],
      ['a bad email', { email: 'not-an-email' }],
      ['an empty name', { name: '' }],
    ])('refuses %s with field errors', async (_label, patch) => {
      const res = await post('/v1/auth/signup', { email: uniqueEmail(), password: 'long enough 1', name: 'N', ...patch });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.errors[0].path).toMatch(/^\/body\/(password|email|name)$/);
    });
  });

  describe('login', () => {
    it('returns a bearer pair whose access token opens /v1/me', async () => {
      const buyer = await givenBuyer(t.app);
      const res = await post('/v1/auth/login', { email: buyer.email, password: buyer.password });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
      const who = await me(body.accessToken);
      expect(who.statusCode).toBe(200);
      expect(who.json()).toEqual({ id: buyer.id, email: buyer.email, name: 'Test BUYER', role: 'BUYER' });
    });

    it('answers the same 401 INVALID_CREDENTIALS for a wrong password and an unknown email', async () => {
      const buyer = await givenBuyer(t.app);
      const wrong = await post('/v1/auth/login', { email: buyer.email, password: 'not the password' });
      const unknown = await post('/v1/auth/login', { email: uniqueEmail(), password: 'whatever 123' });
      for (const res of [wrong, unknown]) {
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
      }
      expect(wrong.json().detail).toBe(unknown.json().detail);
    });
  });

  describe('refresh', () => {
    it('rotates: the new pair works and the old refresh token is spent', async () => {
      const buyer = await givenBuyer(t.app);
      const res = await post('/v1/auth/refresh', { refreshToken: buyer.refreshToken });
      expect(res.statusCode).toBe(200);
      const next = res.json();
      expect(next.refreshToken).not.toBe(buyer.refreshToken);
      expect((await me(next.accessToken)).statusCode).toBe(200);
      const again = await post('/v1/auth/refresh', { refreshToken: next.refreshToken });
      expect(again.statusCode).toBe(200);
    });

    it('revokes the whole family when a spent token is presented again', async () => {
      const buyer = await givenBuyer(t.app);
      const second = (await post('/v1/auth/refresh', { refreshToken: buyer.refreshToken })).json();
      const third = (await post('/v1/auth/refresh', { refreshToken: second.refreshToken })).json();

      const replay = await post('/v1/auth/refresh', { refreshToken: buyer.refreshToken });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().code).toBe('REFRESH_TOKEN_REUSED');

      // The newest token of the family — the one the legitimate client holds — is dead too.
      const latest = await post('/v1/auth/refresh', { refreshToken: third.refreshToken });
      expect(latest.statusCode).toBe(401);
      // Another session of the same user (another family) is untouched.
      const other = (await post('/v1/auth/login', { email: buyer.email, password: buyer.password })).json();
      expect((await post('/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
    });

    it('gives one successor when the same token is refreshed concurrently, and revokes on the race', async () => {
      const buyer = await givenBuyer(t.app);
      const results = await Promise.all(Array.from({ length: 5 }, () => post('/v1/auth/refresh', { refreshToken: buyer.refreshToken })));
      const ok = results.filter((r) => r.statusCode === 200);
      expect(ok).toHaveLength(1);
      expect(results.filter((r) => r.statusCode === 401).every((r) => r.json().code === 'REFRESH_TOKEN_REUSED')).toBe(true);
      // The race was a reuse, so the winner's successor is revoked with its family.
      expect((await post('/v1/auth/refresh', { refreshToken: ok[0]!.json().refreshToken })).statusCode).toBe(401);
    });

    it('refuses an unknown refresh token with 401 UNAUTHENTICATED', async () => {
      const res = await post('/v1/auth/refresh', { refreshToken: 'not-a-token' });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('UNAUTHENTICATED');
    });

    it('refuses an expired refresh token', async () => {
      const buyer = await givenBuyer(t.app);
      clock.advance((t.config.auth.refreshTokenTtlSeconds + 1) * 1000);
      try {
        const res = await post('/v1/auth/refresh', { refreshToken: buyer.refreshToken });
        expect(res.statusCode).toBe(401);
        expect(res.json().code).toBe('UNAUTHENTICATED');
      } finally {
        clock.advance(-(t.config.auth.refreshTokenTtlSeconds + 1) * 1000);
      }
    });
  });

  describe('logout', () => {
    it('answers 204 and ends the session of that refresh token', async () => {
      const buyer = await givenBuyer(t.app);
      const res = await post('/v1/auth/logout', { refreshToken: buyer.refreshToken });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect((await post('/v1/auth/refresh', { refreshToken: buyer.refreshToken })).statusCode).toBe(401);
    });

    it('answers 204 for an unknown token too', async () => {
      expect((await post('/v1/auth/logout', { refreshToken: 'unknown' })).statusCode).toBe(204);
    });
  });

  describe('/v1/me and access tokens', () => {
    it('shows each role its own account', async () => {
      const seller = await givenSeller(t.app);
      const admin = await givenAdmin(t.app, t.ctx);
      expect((await me(seller.accessToken)).json().role).toBe('SELLER');
      expect((await me(admin.accessToken)).json().role).toBe('ADMIN');
    });

    const sign = (claims: Record<string, unknown>, opts: { secret?: string; iss?: string; aud?: string; exp?: number } = {}) =>
      new SignJWT({ role: 'BUYER', ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(claims.sub ?? '01900000-0000-7000-8000-000000000000'))
        .setIssuer(opts.iss ?? 'mos')
        .setAudience(opts.aud ?? 'mos-api')
        .setIssuedAt(Math.floor(clock.now().getTime() / 1000))
        .setExpirationTime(opts.exp ?? Math.floor(clock.now().getTime() / 1000) + 60)
        .sign(new TextEncoder().encode(opts.secret ?? SECRET));

    it('accepts a token it signed', async () => {
      const buyer = await givenBuyer(t.app);
      expect((await me(await sign({ sub: buyer.id }))).statusCode).toBe(200);
    });

    it.each([
      ['no token', async () => undefined],
      [
        'a tampered token',
        async () => {
          const buyer = await givenBuyer(t.app);
          const [h, p, s] = buyer.accessToken.split('.');
          const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
          return [h, Buffer.from(JSON.stringify({ ...payload, role: 'ADMIN' })).toString('base64url'), s].join('.');
        },
      ],
      ['an expired token', async () => sign({}, { exp: Math.floor(clock.now().getTime() / 1000) - 1 })],
      [
        'an alg:none token',
        async () => new UnsecuredJWT({ role: 'ADMIN' }).setSubject('x').setIssuer('mos').setAudience('mos-api').setExpirationTime('1h').encode(),
      ],
      ['a token signed with another key', async () => sign({}, { secret: 'another-secret-another-secret-another-1' })],
      ['a token of another issuer', async () => sign({}, { iss: 'evil' })],
      ['a token for another audience', async () => sign({}, { aud: 'other-api' })],
      ['a token with an unknown role', async () => sign({ role: 'ROOT' })],
      ['garbage', async () => 'abc.def.ghi'],
    ])('refuses %s with 401 UNAUTHENTICATED', async (_label, make) => {
      const token = await make();
      const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    });

    it('expires access tokens after ACCESS_TOKEN_TTL_SECONDS', async () => {
      const buyer = await givenBuyer(t.app);
      clock.advance(901_000);
      try {
        expect((await me(buyer.accessToken)).statusCode).toBe(401);
      } finally {
        clock.advance(-901_000);
      }
    });
  });

  describe('login rate limits', () => {
    it('limits attempts per email with 429 RATE_LIMITED and Retry-After', async () => {
      const email = uniqueEmail('limited');
      const max = t.config.rateLimit.loginMaxPerEmail;
      const statuses: number[] = [];
      for (let i = 0; i < max + 2; i++) {
        // A different client address each time: only the per-email limit can refuse.
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email: i % 2 ? email : email.toUpperCase(), password: 'wrong password' },
          remoteAddress: `10.1.0.${i + 1}`,
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
      }
      expect(statuses.slice(0, max).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(max)).toEqual([429, 429]);
    });

    const attempt = (email: string, password: string, remoteAddress: string) =>
      t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress });

    it('stops a guesser at its own address without locking the owner out', async () => {
      const owner = await givenBuyer(t.app);
      const max = t.config.rateLimit.loginMaxPerEmailIp;
      expect(max).toBeLessThan(t.config.rateLimit.loginMaxPerEmail);
      const statuses: number[] = [];
      for (let i = 0; i < max + 2; i++) statuses.push((await attempt(owner.email, `guess ${i} wrong`, '10.3.0.1')).statusCode);
      expect(statuses.slice(0, max).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(max)).toEqual([429, 429]);
      // Not even the right password passes from the guesser's address meanwhile…
      expect((await attempt(owner.email, owner.password, '10.3.0.1')).statusCode).toBe(429);
      // …but the owner, from theirs, signs in.
      expect((await attempt(owner.email, owner.password, '10.3.0.2')).statusCode).toBe(200);
    });

    it('still stops guessers spread over many addresses at the per-email ceiling', async () => {
      const owner = await givenBuyer(t.app);
      const { loginMaxPerEmailIp: perAddress, loginMaxPerEmail: ceiling } = t.config.rateLimit;
      let tried = 1; // the owner's own login (givenBuyer) counts towards the ceiling too
      for (let address = 1; tried < ceiling; address++) {
        for (let i = 0; i < perAddress && tried < ceiling; i++, tried++) {
          expect((await attempt(owner.email, `guess ${tried} wrong`, `10.5.${address}.1`)).statusCode).toBe(401);
        }
      }
      const fresh = await attempt(owner.email, 'one more guess', '10.5.200.1');
      expect(fresh.statusCode).toBe(429);
      expect(fresh.json().code).toBe('RATE_LIMITED');
      expect(Number(fresh.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('limits attempts per client address across emails', async () => {
      const max = t.config.rateLimit.loginMaxPerIp;
      const statuses: number[] = [];
      for (let i = 0; i < max + 1; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email: uniqueEmail('spray'), password: 'wrong password' },
          remoteAddress: '10.2.0.1',
        });
        statuses.push(res.statusCode);
      }
      expect(statuses.slice(0, max).every((s) => s === 401)).toBe(true);
      expect(statuses[max]).toBe(429);
    });
  });
});
