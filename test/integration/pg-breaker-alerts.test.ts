import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTossClient } from '../../src/modules/payments/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import { type Alerts, breakerAlerts, createAlerts, memoryClaim } from '../../src/platform/observability/alerts.js';

/**
 * The Toss client's breaker, reported through `breakerAlerts` to real alerts (memory claim, a
 * webhook receiver on loopback): the wiring the composition root will use once it builds the client.
 */
describe('the PG circuit breaker opening, told to the alerts', () => {
  let toss: Server;
  let hook: Server;
  const posted: string[] = [];
  const listen = async (server: Server) => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  let tossUrl: string;
  let hookUrl: string;
  beforeAll(async () => {
    // Toss in an outage: every call answers 503.
    toss = createServer((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"COMMON_ERROR","message":"down"}'));
    hook = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        posted.push((JSON.parse(raw) as { text: string }).text);
        res.writeHead(200).end();
      });
    });
    [tossUrl, hookUrl] = await Promise.all([listen(toss), listen(hook)]);
  });
  afterAll(async () => {
    await Promise.all([new Promise((r) => toss.close(r)), new Promise((r) => hook.close(r))]);
  });

  it('posts pg-circuit-open once per opening window, however often the breaker re-opens within it', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z');
    const logger = pino({ level: 'silent' });
    const alerts = createAlerts({
      webhookUrl: `${hookUrl}/hook`,
      repeatAfterMs: 3_600_000,
      timeoutMs: 2000,
      claim: memoryClaim(() => clock.now().getTime()),
      logger,
      registry: new Registry(),
    });
    // Every opening the helper reports, posted or not.
    const openings: string[] = [];
    const told: Alerts = {
      notify: (kind, key, text) => {
        openings.push(key);
        return alerts.notify(kind, key, text);
      },
    };
    const pg = createTossClient(
      {
        apiUrl: tossUrl,
        secretKey: 'test_sk_breaker',
        attempts: 1,
        attemptTimeoutMs: 2000,
        deadlineMs: 5000,
        backoffBaseMs: 1,
        backoffMaxMs: 5,
        breakerFailures: 2,
        // Long enough that a loaded machine cannot half-open it between two calls the test expects it open for.
        breakerHalfOpenMs: 500,
        log: breakerAlerts({ alerts: told, logger, kind: 'pg-circuit-open', dependency: 'the PG', instance: 'test-process', now: () => clock.now().getTime() }),
      },
      clock,
    );

    for (let i = 0; i < 2; i++) expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'unknown' });
    expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'unavailable' });
    await vi.waitFor(() => expect(posted).toHaveLength(1), { timeout: 5000, interval: 10 });
    expect(posted[0]).toMatch(/^\[MOS pg-circuit-open\] The circuit breaker of the PG opened on test-process/);

    // Half-open, the test call fails: the breaker opens again, within the same window.
    await vi.waitFor(async () => expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'unknown' }), { timeout: 5000, interval: 25 });
    expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'unavailable' });

    // A later window: the next re-opening is a new incident.
    clock.advance(10 * 60_000);
    await vi.waitFor(async () => expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'unknown' }), { timeout: 5000, interval: 25 });
    await vi.waitFor(() => expect(posted).toHaveLength(2), { timeout: 5000, interval: 10 });
    // Three openings, two incidents: the re-opening in the first window was not posted.
    expect(openings).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-03-01T00:10:00.000Z']);
  });
});
