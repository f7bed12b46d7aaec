import type { RedisClient } from '../redis/client.js';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

/**
 * Telling a person. Some failures need an operator rather than a retry (a coupon campaign frozen
 * after its hot state was lost, an event dead-lettered, later: a payment parked too long): they
 * are posted to a Slack-compatible incoming webhook (`{"text": …}`), once per incident.
 *
 * "Once" holds across processes: before posting, the incident's key is claimed (`claim`: Redis
 * SET NX with a TTL in production, this process's memory in embedded mode), and only the
 * process that claims it posts. The same incident told again within `repeatAfterMs` is dropped.
 * A webhook that fails is logged and counted, never thrown to the caller: an alert must not
 * turn a handled failure into an unhandled one. The caller logs the incident itself, with its
 * details, as it would without a webhook.
 */
export interface Alerts {
  /** Posts `text` unless this incident (`kind` + `key`) was already told within the repeat window. */
  notify(kind: string, key: string, text: string): Promise<void>;
}

export interface AlertsOptions {
  /** Unset: alerts are only logged. */
  webhookUrl: string | undefined;
  repeatAfterMs: number;
  timeoutMs: number;
  /** True for the one caller that may post this incident now. */
  claim: (incident: string, ttlMs: number) => Promise<boolean>;
  logger: Logger;
  registry: Registry;
}

export function createAlerts(opts: AlertsOptions): Alerts {
  const sent = new Counter({
    name: 'mos_alerts_sent_total',
    help: 'Alerts posted to ALERT_WEBHOOK_URL, by kind',
    labelNames: ['kind'] as const,
    registers: [opts.registry],
  });
  const failed = new Counter({
    name: 'mos_alerts_failed_total',
    help: 'Alerts that could not be posted (webhook down or refusing), by kind',
    labelNames: ['kind'] as const,
    registers: [opts.registry],
  });
  return {
    async notify(kind, key, text) {
      if (!opts.webhookUrl) return;
      try {
        if (!(await opts.claim(`${kind}:${key}`, opts.repeatAfterMs))) return;
        const res = await fetch(opts.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: `[MOS ${kind}] ${text}` }),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
        sent.inc({ kind });
      } catch (err) {
        failed.inc({ kind });
        opts.logger.warn({ alert: kind, incident: key, reason: (err as Error).message }, 'alert not delivered');
      }
    },
  };
}

/** Embedded mode's claim: this process's memory (one process serves everything there). */
export function memoryClaim(now: () => number): AlertsOptions['claim'] {
  const until = new Map<string, number>();
  return async (incident, ttlMs) => {
    const t = now();
    if ((until.get(incident) ?? 0) > t) return false;
    if (until.size > 10_000) for (const [k, v] of until) if (v <= t) until.delete(k);
    until.set(incident, t + ttlMs);
    return true;
  };
}

/** Production's claim: one Redis key per incident, set if absent, expiring after the repeat window. */
export function redisClaim(redis: RedisClient): AlertsOptions['claim'] {
  return async (incident, ttlMs) => (await redis.set(`alert:${incident}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
}

/** What a circuit breaker reports its transitions to: the Toss client's `log` option has this shape. */
export interface BreakerLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface BreakerAlertsOptions {
  alerts: Alerts;
  /** Where every transition is still logged (the process logger). */
  logger: BreakerLog;
  /** The alert's kind, e.g. `pg-circuit-open`. */
  kind: string;
  /** What the breaker guards, for the text (e.g. `the PG (Toss Payments)`). */
  dependency: string;
  /** This process, for the text (host and pid). */
  instance: string;
  /** The injected clock's time, epoch ms. */
  now: () => number;
  /**
   * Openings within one window of this length are one incident (default 10 minutes): a
   * breaker that opens, half-opens and opens again while its dependency is down is told once
   * per window, not every half-open period, and the openings of every process in a window
   * (a PG outage opens them all) are told once between them.
   */
  windowMs?: number;
}

/**
 * A breaker `log` that logs each transition as before and tells the alerts when the breaker
 * opens (fields `{ breaker: 'open' }`, as the Toss client reports it). The incident key is the
 * window the opening falls in, so the alert is posted once per window across processes; the
 * process that opened is named in the text. Never throws into the breaker: `notify` does not.
 */
export function breakerAlerts(opts: BreakerAlertsOptions): BreakerLog {
  const windowMs = opts.windowMs ?? 10 * 60_000;
  return {
    warn(fields, message) {
      opts.logger.warn(fields, message);
      if (fields.breaker !== 'open') return;
      const now = opts.now();
      const window = new Date(now - (now % windowMs)).toISOString();
      void opts.alerts.notify(
        opts.kind,
        window,
        `The circuit breaker of ${opts.dependency} opened on ${opts.instance} at ${new Date(now).toISOString()}: calls fail fast (503) until a test call succeeds.`,
      );
    },
  };
}
