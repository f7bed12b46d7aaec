/**
 * The settlement module: a ledger of its own fed by payments' events (never another module's
 * tables), daily and on-demand runs that settle each seller for a closed period, the sellers'
 * views and CSV, and a consistency check of the ledger against payments' figures. Other code
 * reaches it only through this file.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { EventConsumer, EventHandlerSpec } from '../../platform/events/consumer.js';
import type { PeriodicJob } from '../../platform/jobs/runner.js';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { PaymentFigures } from '../payments/index.js';
import { ratePpm } from './settlement-rules.js';
import { settlementLedgerConsumer } from './settlement-ledger.consumer.js';
import { SettlementRepository } from './settlement.repository.js';
import { settlementRoutes } from './settlement.routes.js';
import { SettlementService } from './settlement.service.js';
import { internals } from './testing.js';

export { SettlementErrors } from './settlement.errors.js';
export { dayContaining, isTimeZone, previousDay, type Period } from './settlement-calendar.js';
export type { CheckResult, LineView, SettlementService, SettlementView } from './settlement.service.js';

type SettlementLogger = ConstructorParameters<typeof SettlementService>[0]['logger'];

export interface SettlementModuleDeps {
  db: Db;
  /** Registers the ledger's event consumer (the outbox pipeline). */
  consume: (spec: EventHandlerSpec) => EventConsumer;
  /** The payments module's counts and sums of a period, for the consistency check. */
  paymentFigures: (from: Date, to: Date) => Promise<PaymentFigures>;
  clock: Clock;
  logger: { child(bindings: Record<string, unknown>): SettlementLogger };
  alerts: Alerts;
  settings: {
    platformFeeRate: number;
    pgFeeRate: number;
    pgFeeRefundable: boolean;
    timeZone: string;
    graceMinutes: number;
    runIntervalSeconds: number;
    checkIntervalSeconds: number;
  };
}

export function createSettlementModule(deps: SettlementModuleDeps) {
  const repo = new SettlementRepository(deps.db);
  const s = deps.settings;
  const service = new SettlementService({
    repo,
    clock: deps.clock,
    logger: deps.logger.child({ module: 'settlement' }),
    alerts: deps.alerts,
    paymentFigures: deps.paymentFigures,
    rates: { platformFeePpm: ratePpm(s.platformFeeRate), pgFeePpm: ratePpm(s.pgFeeRate), pgFeeRefundable: s.pgFeeRefundable },
    timeZone: s.timeZone,
    graceMs: s.graceMinutes * 60_000,
  });
  const consumer = deps.consume(settlementLedgerConsumer(service));
  const jobs: PeriodicJob[] = [
    { name: 'settlement.daily', intervalMs: s.runIntervalSeconds * 1000, run: () => service.runDaily() },
    { name: 'settlement.check', intervalMs: s.checkIntervalSeconds * 1000, run: async () => void (await service.checkDaily()) },
  ];
  return { service, consumer, routes: settlementRoutes, jobs, [internals]: { repo } };
}

export type SettlementModule = ReturnType<typeof createSettlementModule>;
