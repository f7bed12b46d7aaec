import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * One registry per process (per app in tests, so parallel apps never share counters).
 * Modules add their own metrics to `registry`.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Rate-limit checks a process counted alone because Redis was unavailable. */
  readonly rateLimitFallbacks: Counter;
  /** Periodic job runs that failed, by job. */
  readonly jobFailures: Counter<'job'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mos_' });
  const httpDuration = new Histogram({
    name: 'mos_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimitFallbacks = new Counter({
    name: 'mos_rate_limit_local_fallback_total',
    help: 'Rate-limit checks served by the process-local counters because Redis was unavailable',
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'mos_job_failures_total',
    help: 'Periodic job runs that failed (logged with the error), by job',
    labelNames: ['job'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, rateLimitFallbacks, jobFailures };
}
