import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { type Alerts, breakerAlerts } from './alerts.js';

function given(windowMs?: number) {
  const clock = new ManualClock('2026-03-01T00:03:00Z');
  const told: { kind: string; key: string; text: string }[] = [];
  const logged: { fields: Record<string, unknown>; message: string }[] = [];
  const alerts: Alerts = { notify: async (kind, key, text) => void told.push({ kind, key, text }) };
  const log = breakerAlerts({
    alerts,
    logger: { warn: (fields, message) => void logged.push({ fields, message }) },
    kind: 'pg-circuit-open',
    dependency: 'the PG',
    instance: 'worker-1/4242',
    now: () => clock.now().getTime(),
    ...(windowMs === undefined ? {} : { windowMs }),
  });
  return { clock, told, logged, log };
}

describe('breakerAlerts', () => {
  it('tells the alerts when the breaker opens, keyed by the 10-minute window, and still logs every transition', () => {
    const { told, logged, log } = given();
    log.warn({ dependency: 'pg', breaker: 'open' }, 'PG circuit breaker opened');
    log.warn({ dependency: 'pg', breaker: 'half-open' }, 'PG circuit breaker half-open');
    log.warn({ dependency: 'pg', breaker: 'closed' }, 'PG circuit breaker closed');
    expect(logged.map((l) => l.fields.breaker)).toEqual(['open', 'half-open', 'closed']);
    expect(told).toEqual([{ kind: 'pg-circuit-open', key: '2026-03-01T00:00:00.000Z', text: expect.stringContaining('worker-1/4242') }]);
    expect(told[0]!.text).toContain('the PG');
  });

  it('keys openings of one window alike (the alerts post an incident once) and a later window anew', () => {
    const { clock, told, log } = given(5 * 60_000);
    log.warn({ breaker: 'open' }, 'opened');
    clock.advance(60_000);
    log.warn({ breaker: 'open' }, 'opened again after a failed half-open test');
    clock.advance(5 * 60_000);
    log.warn({ breaker: 'open' }, 'opened in the next window');
    expect(told.map((t) => t.key)).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-03-01T00:05:00.000Z']);
  });
});
