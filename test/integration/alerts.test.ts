import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { createAlerts, memoryClaim, redisClaim, type AlertsOptions } from '../../src/platform/observability/alerts.js';
import { isolatedRedis } from '../support/redis.js';

/** A Slack-compatible receiver on loopback that records what it is told, or refuses. */
describe('alerts', () => {
  const received: { text: string }[] = [];
  let refuse = false;
  let server: Server;
  let url: string;
  const redis = isolatedRedis();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (refuse) {
          res.writeHead(500).end();
          return;
        }
        received.push(JSON.parse(body) as { text: string });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await redis.cleanup();
  });

  const alertsWith = (claim: AlertsOptions['claim'], registry = new Registry(), webhookUrl: string | null = url) =>
    createAlerts({ webhookUrl: webhookUrl ?? undefined, repeatAfterMs: 60_000, timeoutMs: 2000, claim, logger: pino({ level: 'silent' }), registry });

  it('posts {text} once per incident, again only after the repeat window', async () => {
    received.length = 0;
    const clock = new ManualClock('2026-12-01T00:00:00Z');
    const alerts = alertsWith(memoryClaim(() => clock.now().getTime()));
    await alerts.notify('dead-letter', 'event-1', 'first');
    await alerts.notify('dead-letter', 'event-1', 'first, told again');
    await alerts.notify('dead-letter', 'event-2', 'second');
    expect(received.map((r) => r.text)).toEqual(['[MOS dead-letter] first', '[MOS dead-letter] second']);
    clock.advance(60_000);
    await alerts.notify('dead-letter', 'event-1', 'first, an hour on');
    expect(received).toHaveLength(3);
  });

  it('tells an incident once across processes sharing Redis', async () => {
    received.length = 0;
    const processes = [alertsWith(redisClaim(redis.redis)), alertsWith(redisClaim(redis.redis)), alertsWith(redisClaim(redis.redis))];
    await Promise.all(processes.map((a) => a.notify('coupon-hot-state-lost', 'campaign-9', 'frozen')));
    expect(received.map((r) => r.text)).toEqual(['[MOS coupon-hot-state-lost] frozen']);
  });

  it('never throws when the webhook refuses, and counts the failure', async () => {
    refuse = true;
    const registry = new Registry();
    const alerts = alertsWith(
      memoryClaim(() => Date.now()),
      registry,
    );
    await expect(alerts.notify('dead-letter', 'event-x', 'refused')).resolves.toBeUndefined();
    refuse = false;
    expect(await registry.getSingleMetricAsString('mos_alerts_failed_total')).toMatch(/mos_alerts_failed_total\{kind="dead-letter"\} 1/);
    const down = alertsWith(
      memoryClaim(() => Date.now()),
      new Registry(),
      'http://127.0.0.1:9/nothing-listens',
    );
    await expect(down.notify('dead-letter', 'event-y', 'nobody')).resolves.toBeUndefined();
  });

  it('posts nothing without a webhook URL', async () => {
    received.length = 0;
    await alertsWith(
      memoryClaim(() => Date.now()),
      new Registry(),
      null,
    ).notify('dead-letter', 'event-z', 'quiet');
    expect(received).toEqual([]);
  });
});
