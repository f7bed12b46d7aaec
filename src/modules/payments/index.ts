/**
 * The payments module: the PG gateway port and its Toss client, payment records, the confirm
 * route, the cancel route (a paid order is refunded through the PG) and the reconciliation job. Other code reaches payments only through this file (the
 * sandbox PG is a sub-module with its own index).
 */
import type { Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { PeriodicJob } from '../../platform/jobs/runner.js';
import type { PayingOrders } from '../booking/index.js';
import { saleFactsPart } from '../catalog/index.js';
import { discountFundingPart } from '../coupons/index.js';
import type { PgGateway } from './pg-gateway.js';
import { createPaymentsMetrics } from './payments.metrics.js';
import { PaymentsRepository } from './payments.repository.js';
import { paymentsRoutes } from './payments.routes.js';
import { PaymentsService } from './payments.service.js';
import { internals } from './testing.js';

export type {
  CancelRequest,
  ConfirmRequest,
  PgGateway,
  PgLookup,
  PgResult,
  PgUnavailable,
  PgUnknownReason,
  TossCancel,
  TossPayment,
  TossPaymentStatus,
} from './pg-gateway.js';
export { PgMisconfiguredError, pgIdempotencyKeys } from './pg-gateway.js';
export { PaymentErrors } from './payments.errors.js';
export {
  PaymentEvents,
  type PaymentCompletedV1,
  type PaymentCompletedV2,
  type PaymentFailedV1,
  type RefundCompletedV1,
  type RefundCompletedV2,
  type SaleFacts,
} from './payments.events.js';
export type { PaymentFigures } from './payments.repository.js';
export type { CancelOutcome, ConfirmInput, ConfirmOutcome, ConfirmResult, PaymentsService, WebhookOutcome } from './payments.service.js';
export { classifyTossError, type TossCode, type TossCodeClass, tossCodes } from './toss-codes.js';
export { createTossClient, type TossClientOptions } from './toss.client.js';

export interface PaymentsModuleDeps {
  db: Db;
  pg: PgGateway;
  /** Booking's narrow side: read an order, pay it (or refund it) inside the payments module's transaction, tell the hot state after. */
  orders: PayingOrders;
  /** Frees a buyer's waiting-room slot once they paid (a no-op for a showtime without a waiting room). */
  leaveWaitingRoom: (userId: string, scheduleId: string) => Promise<void>;
  clock: Clock;
  registry: Registry;
  logger: { child(bindings: Record<string, unknown>): PaymentsLogger };
  /** Told of payments parked too long, charges refunded because their order could not take them, and refunds the PG refuses. */
  alerts: Alerts;
  settings: { reconcileIntervalSeconds: number; reconcileAfterSeconds: number; parkedAlertMinutes: number };
}

type PaymentsLogger = ConstructorParameters<typeof PaymentsService>[0]['logger'];

export function createPaymentsModule(deps: PaymentsModuleDeps) {
  // The events of a sale carry its seller, performance and discount funding, read by the catalog's and the coupons' SQL.
  const repo = new PaymentsRepository(deps.db, { saleFacts: saleFactsPart, discountFunding: discountFundingPart });
  const service = new PaymentsService({
    repo,
    pg: deps.pg,
    orders: deps.orders,
    leaveWaitingRoom: deps.leaveWaitingRoom,
    clock: deps.clock,
    logger: deps.logger.child({ module: 'payments' }),
    metrics: createPaymentsMetrics(deps.registry),
    alerts: deps.alerts,
    reconcileAfterMs: deps.settings.reconcileAfterSeconds * 1000,
    parkedAlertMs: deps.settings.parkedAlertMinutes * 60_000,
  });
  const jobs: PeriodicJob[] = [
    { name: 'payments.reconcile', intervalMs: deps.settings.reconcileIntervalSeconds * 1000, run: async () => void (await service.reconcile()) },
  ];
  return { service, routes: paymentsRoutes, jobs, [internals]: { repo } };
}

export type PaymentsModule = ReturnType<typeof createPaymentsModule>;
