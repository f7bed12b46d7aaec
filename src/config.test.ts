import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSpec, configTableMarkdown, loadConfig } from './config.js';

const production = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mos',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'x'.repeat(32),
};

describe('config', () => {
  it('runs embedded with defaults when no service URL is set', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('embedded');
    expect(c.http.port).toBe(3000);
    expect(c.auth.accessTokenTtlSeconds).toBe(900);
    expect(c.db.dataDir).toBe('.mos');
    expect(Object.isFrozen(c) && Object.isFrozen(c.http)).toBe(true);
  });

  it('binds embedded mode to this machine and production to every interface unless HOST says otherwise', () => {
    expect(loadConfig({}).http.host).toBe('127.0.0.1');
    expect(loadConfig(production).http.host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
    expect(loadConfig({ ...production, HOST: '10.0.0.5' }).http.host).toBe('10.0.0.5');
  });

  it('runs in production mode when both DATABASE_URL and REDIS_URL are set', () => {
    const c = loadConfig({ ...production, DATABASE_POOL_SIZE: '25' });
    expect(c.mode).toBe('production');
    expect(c.db.poolSize).toBe(25);
  });

  it('runs in production mode on a Redis Cluster given its nodes instead of REDIS_URL', () => {
    const { REDIS_URL: _single, ...rest } = production;
    const c = loadConfig({ ...rest, REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002', REDIS_WAIT_REPLICAS: '1' });
    expect(c.mode).toBe('production');
    expect(c.redis.url).toBeUndefined();
    expect(c.redis.clusterNodes).toEqual(['10.0.0.1:7000', '10.0.0.2:7001', '[::1]:7002']);
    expect(c.redis.waitReplicas).toBe(1);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_POOL_SIZE: '0', ...production }, 'DATABASE_POOL_SIZE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ REDIS_KEY_PREFIX: 'mos:{x}:' }, 'REDIS_KEY_PREFIX'],
    [{ DATABASE_URL: 'mysql://x', REDIS_URL: 'redis://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: production.DATABASE_URL }, 'REDIS_URL'],
    [{ REDIS_URL: production.REDIS_URL }, 'DATABASE_URL'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1:7000' }, 'DATABASE_URL'],
    [{ ...production, REDIS_CLUSTER_NODES: '10.0.0.1:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_WAIT_REPLICAS: '-1' }, 'REDIS_WAIT_REPLICAS'],
    [{ DATABASE_URL: production.DATABASE_URL, REDIS_URL: production.REDIS_URL }, 'JWT_SECRET'],
    [{ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ TOSS_API_URL: 'ftp://pg.example' }, 'TOSS_API_URL'],
    [{ TOSS_SECRET_KEY: 'test_sk_a:b' }, 'TOSS_SECRET_KEY'],
    [{ TOSS_SECRET_KEY: '\ufefftest_sk_bom' }, 'TOSS_SECRET_KEY'],
    [{ PG_ATTEMPTS: '0' }, 'PG_ATTEMPTS'],
    [{ PG_ATTEMPT_TIMEOUT_MS: '5000', PG_DEADLINE_MS: '4000' }, 'PG_ATTEMPT_TIMEOUT_MS'],
    [{ PG_BACKOFF_BASE_MS: '3000', PG_BACKOFF_MAX_MS: '2000' }, 'PG_BACKOFF_BASE_MS'],
    [{ OUTBOX_RETENTION_HOURS: '0' }, 'OUTBOX_RETENTION_HOURS'],
    [{ OUTBOX_RETENTION_HOURS: '1', EVENT_CONSUMER_STALE_MS: '3600000' }, 'OUTBOX_RETENTION_HOURS'],
    [{ SANDBOX_WEBHOOK_URL: 'ftp://merchant.example/hook' }, 'SANDBOX_WEBHOOK_URL'],
  ])('refuses %o naming %s', (env, key) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${key}\\b`));
  });

  it('gives the PG client a bounded retry budget by default, and the sandbox key until one is set', () => {
    expect(loadConfig(production).pg).toEqual({
      apiUrl: 'https://api.tosspayments.com',
      secretKey: 'test_sk_mos_sandbox',
      attempts: 4,
      attemptTimeoutMs: 3000,
      deadlineMs: 10000,
      backoffBaseMs: 100,
      backoffMaxMs: 2000,
      breakerFailures: 5,
      breakerHalfOpenMs: 10000,
    });
    expect(loadConfig({ ...production, TOSS_SECRET_KEY: 'live_sk_abc' }).pg.secretKey).toBe('live_sk_abc');
  });

  it("points the PG client at this process's own sandbox wherever one is mounted and TOSS_API_URL is unset", () => {
    expect(loadConfig({}).pg.apiUrl).toBe('http://127.0.0.1:3000/sandbox/toss');
    expect(loadConfig({ PORT: '8080' }).pg.apiUrl).toBe('http://127.0.0.1:8080/sandbox/toss');
    expect(loadConfig({ ...production, TOSS_SANDBOX: 'true', PORT: '3001' }).pg.apiUrl).toBe('http://127.0.0.1:3001/sandbox/toss');
    expect(loadConfig({ TOSS_SANDBOX: 'false' }).pg.apiUrl).toBe('https://api.tosspayments.com');
    expect(loadConfig({ TOSS_API_URL: 'http://sandbox.internal:3100/sandbox/toss' }).pg.apiUrl).toBe('http://sandbox.internal:3100/sandbox/toss');
  });

  it('reconciles payments on a schedule, and never takes a confirm still in flight for an orphan', () => {
    expect(loadConfig({}).payments).toEqual({ reconcileIntervalSeconds: 30, reconcileAfterSeconds: 60, parkedAlertMinutes: 15 });
    expect(() => loadConfig({ PAYMENT_RECONCILE_AFTER_SECONDS: '10' })).toThrow(/PAYMENT_RECONCILE_AFTER_SECONDS/);
    expect(loadConfig({ PAYMENT_RECONCILE_AFTER_SECONDS: '3', PG_DEADLINE_MS: '2000', PG_ATTEMPT_TIMEOUT_MS: '1000' }).payments.reconcileAfterSeconds).toBe(3);
  });

  it('refunds paid orders until REFUND_CUTOFF_MINUTES before the showtime, and alerts payments parked past PAYMENT_PARKED_ALERT_MINUTES', () => {
    expect(loadConfig({}).booking.refundCutoffMinutes).toBe(0);
    expect(loadConfig({ REFUND_CUTOFF_MINUTES: '60' }).booking.refundCutoffMinutes).toBe(60);
    expect(() => loadConfig({ REFUND_CUTOFF_MINUTES: '-1' })).toThrow(/REFUND_CUTOFF_MINUTES/);
    expect(loadConfig({ PAYMENT_PARKED_ALERT_MINUTES: '5' }).payments.parkedAlertMinutes).toBe(5);
    expect(() => loadConfig({ PAYMENT_PARKED_ALERT_MINUTES: '0' })).toThrow(/PAYMENT_PARKED_ALERT_MINUTES/);
  });

  it('names every bad key at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT.*LOG_LEVEL/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '' }).http.port).toBe(3000);
  });

  it('parses lists and booleans', () => {
    const c = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', TRUST_PROXY: 'yes' });
    expect(c.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.http.trustProxy).toBe(true);
  });

  it('gives every key its own place in the config', () => {
    const paths = Object.values(configSpec).map((e) => e.path);
    expect(new Set(paths).size).toBe(paths.length);
    // A path that is another's prefix would be a value and a group at once.
    expect(paths.filter((p) => paths.some((q) => q.startsWith(`${p}.`)))).toEqual([]);
    const c = loadConfig({ MAX_SEATS_PER_BUYER: '6', SELLER_MAX_VENUES: '7' });
    expect(c.booking.maxSeatsPerBuyer).toBe(6);
    expect(c.catalog.quotas.venuesPerSeller).toBe(7);
    expect(Object.isFrozen(c.catalog.quotas)).toBe(true);
  });

  it('is documented in the README by the generated table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTableMarkdown());
  });

  describe('the sandbox PG', () => {
    it('is mounted in embedded mode and off in production unless TOSS_SANDBOX says otherwise', () => {
      expect(loadConfig({}).sandbox.enabled).toBe(true);
      expect(loadConfig({ TOSS_SANDBOX: 'false' }).sandbox.enabled).toBe(false);
      expect(loadConfig(production).sandbox.enabled).toBe(false);
      expect(loadConfig({ ...production, TOSS_SANDBOX: 'true' }).sandbox.enabled).toBe(true);
    });

    it('reads its fault settings', () => {
      const c = loadConfig({
        SANDBOX_FAULT_RATE: '0.1',
        SANDBOX_DROP_RATE: '.25',
        SANDBOX_TIMEOUT_RATE: '0.05',
        SANDBOX_LATENCY_MS: '40',
        SANDBOX_SEED: '7',
        SANDBOX_PORT: '3999',
      });
      expect(c.sandbox).toMatchObject({
        faultRate: 0.1,
        dropRate: 0.25,
        timeoutRate: 0.05,
        latencyMs: 40,
        seed: 7,
        port: 3999,
        faultCode: 'FAILED_INTERNAL_SYSTEM_PROCESSING',
      });
      expect(loadConfig({}).sandbox).toMatchObject({ faultRate: 0, dropRate: 0, timeoutRate: 0, latencyMs: 0, seed: undefined, port: 3100 });
    });

    it.each([
      [{ SANDBOX_FAULT_RATE: '1.5' }, 'SANDBOX_FAULT_RATE'],
      [{ SANDBOX_DROP_RATE: '-0.1' }, 'SANDBOX_DROP_RATE'],
      [{ SANDBOX_TIMEOUT_RATE: '2' }, 'SANDBOX_TIMEOUT_RATE'],
      [{ SANDBOX_FAULT_CODE: 'boom!' }, 'SANDBOX_FAULT_CODE'],
      [{ TOSS_SECRET_KEY: 'sk_without_mode' }, 'TOSS_SECRET_KEY'],
      [{ TOSS_SANDBOX: 'true', TOSS_SECRET_KEY: 'live_sk_abc' }, 'TOSS_SANDBOX'],
      [{ ...production, TOSS_SANDBOX: 'true', TOSS_SECRET_KEY: 'live_sk_abc' }, 'TOSS_SANDBOX'],
      // Embedded mode mounts the sandbox unless told not to, so a live key there must say so.
      [{ TOSS_SECRET_KEY: 'live_gsk_abc' }, 'TOSS_SANDBOX'],
    ])('refuses %o naming %s', (env, key) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${key}\\b`));
    });

    it('lets a live key run where no sandbox is mounted', () => {
      expect(loadConfig({ ...production, TOSS_SECRET_KEY: 'live_sk_abc' }).pg.secretKey).toBe('live_sk_abc');
      expect(loadConfig({ TOSS_SANDBOX: 'false', TOSS_SECRET_KEY: 'live_sk_abc' }).sandbox.enabled).toBe(false);
    });
  });
});
