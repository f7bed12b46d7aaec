import type { Clock } from '../../platform/clock.js';
import type { Tx } from '../../platform/db/client.js';
import type { EventEnvelope } from '../../platform/events/envelope.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { newId } from '../../platform/ids.js';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { PaymentCompletedV2, PaymentFigures, RefundCompletedV2 } from '../payments/index.js';
import { type Period, previousDay } from './settlement-calendar.js';
import { csvRecord, UTF8_BOM } from './settlement-csv.js';
import { type Rates, refundFees, saleFees } from './settlement-rules.js';
import { SettlementErrors } from './settlement.errors.js';
import {
  type LedgerFigures,
  type LineRow,
  type NewEntry,
  PeriodOverlapsError,
  type SalesRow,
  type SettlementRepository,
  type SettlementRow,
} from './settlement.repository.js';

/** The event types settlement books, and the payload version that carries the sale's facts. */
export const SETTLED_EVENTS = { sale: 'payment.completed', refund: 'refund.completed' } as const;
const FACTS_VERSION = 2;

export interface SettlementView {
  id: string;
  sellerId: string;
  periodStart: string;
  periodEnd: string;
  lineCount: number;
  gross: number;
  refunds: number;
  sellerDiscounts: number;
  platformDiscounts: number;
  platformFee: number;
  pgFee: number;
  subtotal: number;
  carriedIn: number;
  carriedOut: number;
  net: number;
  status: 'PENDING' | 'PAID';
  paidAt: string | null;
  createdAt: string;
}

export interface LineView {
  orderId: string;
  performanceId: string;
  performanceTitle: string;
  scheduleId: string;
  soldAt: string | null;
  refundedAt: string | null;
  seats: number;
  gross: number;
  sellerDiscount: number;
  platformDiscount: number;
  charged: number;
  refunds: number;
  platformFee: number;
  pgFee: number;
  net: number;
}

/** What the consistency check found for a period. */
export interface CheckResult {
  periodStart: string;
  periodEnd: string;
  ledger: LedgerFigures;
  payments: PaymentFigures;
  matches: boolean;
}

interface Log {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface SettlementServiceDeps {
  repo: SettlementRepository;
  clock: Clock;
  logger: Log;
  /** Told of a period whose ledger and payments disagree. */
  alerts: Alerts;
  /** The payments module's counts and sums of a period (its public interface, never its tables). */
  paymentFigures: (from: Date, to: Date) => Promise<PaymentFigures>;
  rates: Rates;
  /** SETTLEMENT_TIMEZONE: whose calendar days the daily run settles. */
  timeZone: string;
  /** SETTLEMENT_GRACE_MINUTES, in ms: how long after a day closes the daily run and check act on it. */
  graceMs: number;
}

const CSV_PAGE = 5_000;
const CSV_HEADER = [
  'orderId',
  'performanceId',
  'performanceTitle',
  'scheduleId',
  'soldAt',
  'refundedAt',
  'seats',
  'gross',
  'sellerDiscount',
  'platformDiscount',
  'charged',
  'refunds',
  'platformFee',
  'pgFee',
  'net',
] as const;

const invalid = (path: string, message: string) => CommonErrors.VALIDATION_FAILED(message, { errors: [{ path, message }] });

/**
 * Settlement: a ledger of its own, fed by payments' events; runs that settle closed periods per
 * seller from it; the sellers' views; and a check of the ledger against the payments' figures.
 * The rules (fees, rounding, carry-over) are settlement-rules.ts.
 */
export class SettlementService {
  constructor(private readonly deps: SettlementServiceDeps) {}

  /**
   * Books one event into the ledger (the consumer's handler, in its transaction with the
   * processed-event row). A sale books its fees at today's rates; a refund gives back exactly
   * what its sale's entry booked (or, if the refund arrived first, what the sale would book at
   * today's rates). A second entry for the same order and kind is not written.
   */
  async record(event: EventEnvelope, tx: Tx): Promise<void> {
    const { deps } = this;
    if (event.version < FACTS_VERSION) throw new Error(`${event.type} v${event.version} (${event.id}) carries no seller: settlement needs v${FACTS_VERSION}`);
    const { platformFeePpm, pgFeePpm, pgFeeRefundable } = deps.rates;
    let entry: NewEntry;
    if (event.type === SETTLED_EVENTS.sale) {
      const p = event.payload as unknown as PaymentCompletedV2;
      const figures = { listTotal: p.listTotal, sellerDiscount: p.sellerDiscount, platformDiscount: p.platformDiscount, charged: p.amount };
      this.#checkFigures(event, figures);
      entry = {
        ...this.#common(event, p, 'SALE', p.approvedAt, p.seatIds.length),
        ...figures,
        ...saleFees(figures, deps.rates),
        platformFeePpm,
        pgFeePpm,
      };
    } else if (event.type === SETTLED_EVENTS.refund) {
      const p = event.payload as unknown as RefundCompletedV2;
      const figures = { listTotal: p.listTotal, sellerDiscount: p.sellerDiscount, platformDiscount: p.platformDiscount, charged: p.chargedAmount };
      this.#checkFigures(event, figures);
      const booked = (await deps.repo.saleFees(p.orderId, tx)) ?? { ...saleFees(figures, deps.rates), platformFeePpm, pgFeePpm };
      entry = {
        ...this.#common(event, p, 'REFUND', p.canceledAt, p.seatIds.length),
        ...figures,
        ...refundFees(booked, pgFeeRefundable),
        platformFeePpm: booked.platformFeePpm,
        pgFeePpm: booked.pgFeePpm,
      };
    } else {
      return;
    }
    const written = await deps.repo.append(entry, deps.clock.now(), tx);
    if (!written) deps.logger.info({ eventId: event.id, orderId: entry.orderId, kind: entry.kind }, 'ledger entry exists already: nothing booked');
  }

  #common(event: EventEnvelope, p: PaymentCompletedV2 | RefundCompletedV2, kind: 'SALE' | 'REFUND', occurredAt: string, seats: number) {
    const at = new Date(occurredAt);
    if (Number.isNaN(at.getTime())) throw new Error(`${event.type} ${event.id}: no time of occurrence`);
    return {
      id: newId(),
      eventId: event.id,
      kind,
      sellerId: p.sellerId,
      performanceId: p.performanceId,
      performanceTitle: p.performanceTitle,
      scheduleId: p.scheduleId,
      orderId: p.orderId,
      occurredAt: at,
      seats,
    };
  }

  #checkFigures(event: EventEnvelope, f: { listTotal: number; sellerDiscount: number; platformDiscount: number; charged: number }): void {
    if (![f.listTotal, f.sellerDiscount, f.platformDiscount, f.charged].every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw new Error(`${event.type} ${event.id}: amounts are not non-negative integers`);
    }
    if (f.listTotal - f.sellerDiscount - f.platformDiscount !== f.charged) {
      // Booked as the PG charged it; a person should know the order's figures disagree.
      this.deps.logger.error({ eventId: event.id, ...f }, 'list total − discounts is not the amount charged');
    }
  }

  /**
   * Settles the closed half-open period `[start, end)`, to the second. The same period again →
   * the same settlements, unchanged; an overlapping other period → 409.
   */
  async run(start: Date, end: Date): Promise<{ created: boolean; settlements: SettlementView[] }> {
    const { deps } = this;
    if (start.getMilliseconds() || end.getMilliseconds()) throw invalid('/body', 'A period is given to the second (no fractions)');
    if (start.getTime() >= end.getTime()) throw invalid('/body/periodEnd', 'periodEnd must be after periodStart');
    const now = deps.clock.now();
    if (end.getTime() > now.getTime()) throw SettlementErrors.PERIOD_NOT_CLOSED(`The period ends at ${end.toISOString()}, after now (${now.toISOString()})`);
    try {
      const outcome = await deps.repo.run(newId(), start, end, now);
      if (outcome.created) {
        deps.logger.info({ periodStart: start.toISOString(), periodEnd: end.toISOString(), settlements: outcome.settlements.length }, 'period settled');
      }
      return { created: outcome.created, settlements: outcome.settlements.map(toView) };
    } catch (err) {
      if (err instanceof PeriodOverlapsError) {
        const other = { periodStart: err.other.periodStart.toISOString(), periodEnd: err.other.periodEnd.toISOString() };
        throw SettlementErrors.PERIOD_OVERLAPS(`The period overlaps [${other.periodStart}, ${other.periodEnd}), settled already`, other);
      }
      throw err;
    }
  }

  /** The daily job: settles yesterday in SETTLEMENT_TIMEZONE, once it has been closed for SETTLEMENT_GRACE_MINUTES. */
  async runDaily(): Promise<void> {
    const day = this.#closedDay();
    if (!day) return;
    try {
      await this.run(day.start, day.end);
    } catch (err) {
      if (!SettlementErrors.PERIOD_OVERLAPS.is(err)) throw err;
      // An admin settled a period that cuts this day: its entries are settled there, or by the next run.
      this.deps.logger.warn({ periodStart: day.start.toISOString(), periodEnd: day.end.toISOString(), err: err.message }, 'daily settlement skipped');
    }
  }

  /** Yesterday in SETTLEMENT_TIMEZONE, if it closed at least the grace ago (else the day before it). */
  #closedDay(): Period | undefined {
    const { clock, timeZone, graceMs } = this.deps;
    return previousDay(new Date(clock.now().getTime() - graceMs), timeZone);
  }

  /** `POST /v1/admin/settlements/:id/paid`: PENDING → PAID; a PAID settlement is answered as it is. */
  async markPaid(id: string): Promise<SettlementView> {
    const row = await this.deps.repo.markPaid(id, this.deps.clock.now());
    if (!row) throw CommonErrors.NOT_FOUND('No such settlement');
    return toView(row);
  }

  async sales(sellerId: string, from: Date, to: Date): Promise<{ from: string; to: string; items: SalesRow[] }> {
    if (from.getTime() >= to.getTime()) throw invalid('/querystring/to', 'to must be after from');
    return { from: from.toISOString(), to: to.toISOString(), items: await this.deps.repo.sales(sellerId, from, to) };
  }

  async settlementsOf(sellerId: string, limit: number, before?: string): Promise<SettlementView[]> {
    return (await this.deps.repo.ofSeller(sellerId, limit, before)).map(toView);
  }

  /** The seller's own settlement; anyone else's answers as if it did not exist. */
  async settlementOf(sellerId: string, id: string): Promise<SettlementView> {
    const row = await this.deps.repo.find(id);
    if (!row || row.sellerId !== sellerId) throw CommonErrors.NOT_FOUND('No such settlement');
    return toView(row);
  }

  async lines(settlementId: string, limit: number, afterOrderId?: string): Promise<LineView[]> {
    return (await this.deps.repo.lines(settlementId, limit, afterOrderId)).map(toLineView);
  }

  /**
   * The CSV of a settlement's lines, as chunks: the BOM and the header, then one chunk per page of
   * lines read by keyset (order id), so memory holds one page whatever the settlement's size and
   * no transaction or connection is held between pages (in embedded mode a held transaction
   * would stop every other request).
   */
  async *csv(settlementId: string): AsyncGenerator<string> {
    yield UTF8_BOM + csvRecord(CSV_HEADER);
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.repo.lines(settlementId, CSV_PAGE, after);
      if (!page.length) return;
      yield page
        .map((l) => {
          const line = toLineView(l);
          return csvRecord(CSV_HEADER.map((k) => line[k]));
        })
        .join('');
      if (page.length < CSV_PAGE) return;
      after = page.at(-1)!.orderId;
    }
  }

  /**
   * Compares the ledger with the payments' own records for `[start, end)`: how many sales and
   * refunds, and their KRW. Any difference (an event lost, dead-lettered, or not consumed yet) is
   * alerted once per period.
   */
  async check(start: Date, end: Date): Promise<CheckResult> {
    const { deps } = this;
    const [ledger, payments] = await Promise.all([deps.repo.figures(start, end), deps.paymentFigures(start, end)]);
    const matches =
      ledger.sales.count === payments.sales.count &&
      ledger.sales.amount === payments.sales.amount &&
      ledger.refunds.count === payments.refunds.count &&
      ledger.refunds.amount === payments.refunds.amount;
    const result = { periodStart: start.toISOString(), periodEnd: end.toISOString(), ledger, payments, matches };
    if (!matches) {
      deps.logger.error(result, 'the settlement ledger disagrees with the payments');
      await deps.alerts.notify(
        'settlement-mismatch',
        `${result.periodStart}/${result.periodEnd}`,
        `Settlement ledger vs payments for [${result.periodStart}, ${result.periodEnd}): sales ${ledger.sales.count} / ${ledger.sales.amount} KRW in the ledger, ${payments.sales.count} / ${payments.sales.amount} KRW in payments; refunds ${ledger.refunds.count} / ${ledger.refunds.amount} KRW vs ${payments.refunds.count} / ${payments.refunds.amount} KRW. Look for dead-lettered payment events.`,
      );
    }
    return result;
  }

  /** The check job: yesterday in SETTLEMENT_TIMEZONE, once closed for SETTLEMENT_GRACE_MINUTES. */
  async checkDaily(): Promise<CheckResult | undefined> {
    const day = this.#closedDay();
    return day && this.check(day.start, day.end);
  }
}

function toView(r: SettlementRow): SettlementView {
  return {
    id: r.id,
    sellerId: r.sellerId,
    periodStart: r.periodStart.toISOString(),
    periodEnd: r.periodEnd.toISOString(),
    lineCount: r.lineCount,
    gross: Number(r.gross),
    refunds: Number(r.refunds),
    sellerDiscounts: Number(r.sellerDiscounts),
    platformDiscounts: Number(r.platformDiscounts),
    platformFee: Number(r.platformFee),
    pgFee: Number(r.pgFee),
    subtotal: Number(r.subtotal),
    carriedIn: Number(r.carriedIn),
    carriedOut: Number(r.carriedOut),
    net: Number(r.net),
    status: r.status,
    paidAt: r.paidAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

function toLineView(l: LineRow): LineView {
  return {
    orderId: l.orderId,
    performanceId: l.performanceId,
    performanceTitle: l.performanceTitle,
    scheduleId: l.scheduleId,
    soldAt: l.soldAt?.toISOString() ?? null,
    refundedAt: l.refundedAt?.toISOString() ?? null,
    seats: l.seats,
    gross: l.gross,
    sellerDiscount: l.sellerDiscount,
    platformDiscount: l.platformDiscount,
    charged: l.charged,
    refunds: l.refunds,
    platformFee: l.platformFee,
    pgFee: l.pgFee,
    net: l.net,
  };
}
