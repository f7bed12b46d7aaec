/**
 * The sandbox PG: a Toss-compatible test PG with its own in-memory ledger (a restart forgets
 * it). A sub-module of payments, open to the rest of the code only through this file. Mounted
 * at `/sandbox/toss` in embedded mode and in `mos api` with TOSS_SANDBOX=true; `mos sandbox`
 * runs it alone (`buildSandboxServer`).
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../../../platform/clock.js';
import { SandboxFaults, seededRandom, type FaultSettings } from './sandbox.faults.js';
import type { SandboxParts } from './sandbox.routes.js';
import { SandboxService } from './sandbox.service.js';
import { SandboxIdempotency, SandboxLedger } from './sandbox.store.js';
import { SandboxWebhooks } from './sandbox.webhooks.js';
import { isTossErrorCode } from './toss.errors.js';

export { sandboxPlugin } from './sandbox.routes.js';
export { buildSandboxServer } from './sandbox.server.js';
export { seededRandom, type DeliveryFault, type FaultStep, type TossOperation } from './sandbox.faults.js';
export { EXPIRE_AFTER_MS, SESSION_TTL_MS, kst, type LedgerView } from './sandbox.service.js';
export type { WebhookAttempt, WebhookDelivery } from './sandbox.store.js';
export { kstLocal, WEBHOOK_RETRY_MINUTES, type WebhookBody } from './sandbox.webhooks.js';
export { isTossErrorCode, TOSS_ERRORS, TossError, type TossErrorCode } from './toss.errors.js';
export * from './toss.wire.js';

/** Where MOS mounts it, and where `mos sandbox` serves it. */
export const SANDBOX_PREFIX = '/sandbox/toss';
/** The key the sandbox accepts when TOSS_SECRET_KEY is unset. */
export const SANDBOX_DEFAULT_SECRET_KEY = 'test_sk_mos_sandbox';
/** Idempotency keys are valid for 15 days from first use (docs/toss.md B7). */
export const IDEMPOTENCY_TTL_MS = 15 * 24 * 3_600_000;

export interface SandboxOptions extends Partial<Omit<FaultSettings, 'faultCode'>> {
  clock: Clock;
  /** A Toss error code of TOSS_ERRORS (anything else is refused). */
  faultCode?: string;
  /** The secret key callers must present; a `test_` key (default SANDBOX_DEFAULT_SECRET_KEY). */
  secretKey?: string | undefined;
  /** The fault draws' source; default a seeded one (`seed`, else a random seed). */
  random?: () => number;
  seed?: number | undefined;
  /** How latency is spent (tests hold a request in flight with their own). */
  sleep?: (ms: number) => Promise<void>;
  timeoutHoldMs?: number;
  /** Where PAYMENT_STATUS_CHANGED events are POSTed (docs/toss.md B9); unset = no webhooks. */
  webhookUrl?: string | undefined;
  /** How long one webhook attempt may take (default 10 s). */
  webhookTimeoutMs?: number;
  /** How often (real time) due webhook deliveries are looked for once the server is ready; 0 = never (default 1 s). */
  webhookPollMs?: number;
}

export type Sandbox = SandboxParts;

export function createSandbox(options: SandboxOptions): Sandbox {
  const secretKey = options.secretKey ?? SANDBOX_DEFAULT_SECRET_KEY;
  // Also refused by the configuration at start; this is the last line.
  if (!secretKey.startsWith('test_')) throw new Error('the sandbox PG runs on a test_ secret key only');
  const faultCode = options.faultCode ?? 'FAILED_INTERNAL_SYSTEM_PROCESSING';
  if (!isTossErrorCode(faultCode)) throw new Error(`not a Toss error code the sandbox knows: ${faultCode}`);
  const ledger = new SandboxLedger();
  let service: SandboxService | undefined;
  const webhooks = new SandboxWebhooks(ledger, {
    url: options.webhookUrl,
    clock: options.clock,
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
    pollMs: options.webhookPollMs ?? 1000,
    sweep: () => service?.expireDue(),
  });
  service = new SandboxService(ledger, options.clock, (payment) => webhooks.statusChanged(payment));
  return {
    secretKey,
    service,
    webhooks,
    faults: new SandboxFaults(
      {
        latencyMs: options.latencyMs ?? 0,
        faultRate: options.faultRate ?? 0,
        faultCode,
        dropRate: options.dropRate ?? 0,
        timeoutRate: options.timeoutRate ?? 0,
      },
      options.random ?? seededRandom(options.seed ?? randomInt(2 ** 32)),
    ),
    idempotency: new SandboxIdempotency(options.clock, IDEMPOTENCY_TTL_MS),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    timeoutHoldMs: options.timeoutHoldMs ?? 5 * 60_000,
  };
}
