/**
 * The sandbox PG's payments, as Toss behaves (docs/toss.md B1, B3–B6, B8): a checkout
 * session the buyer authenticated (IN_PROGRESS), confirmed within 10 minutes, expired after 30,
 * approved once, cancelled in full or in parts. HTTP, auth, idempotency and faults are the
 * routes' business; this file is the PG's ledger logic and throws `TossError`s.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Clock } from '../../../platform/clock.js';
import type { CancelRecord, PaymentRecord, SandboxLedger, WebhookDelivery } from './sandbox.store.js';
import { EXPIRED_PAYMENT, TossError, type TossErrorCode } from './toss.errors.js';
import { TOSS_API_VERSION, type TossCancelBody, type TossConfirmBody, type TossPayment } from './toss.wire.js';

/** Confirm must come within 10 minutes of the buyer's authentication (B1). */
export const SESSION_TTL_MS = 10 * 60_000;
/** A payment left IN_PROGRESS becomes EXPIRED after 30 minutes (B1, B4). */
export const EXPIRE_AFTER_MS = 30 * 60_000;
/** Toss's shared test merchant id. */
const MID = 'tvivarepublica';
const KST_OFFSET_MS = 9 * 3_600_000;

export interface CheckoutInput {
  orderId: string;
  amount: number;
  orderName: string;
  testCode?: TossErrorCode | undefined;
}

export interface LedgerView {
  payments: {
    paymentKey: string;
    orderId: string;
    orderName: string;
    status: string;
    totalAmount: number;
    balanceAmount: number;
    requestedAt: string;
    approvedAt: string | null;
    failure: { code: string; message: string } | null;
    cancels: { cancelAmount: number; cancelReason: string; canceledAt: string; transactionKey: string }[];
  }[];
  /** Per order id: how many payments the PG approved (charged), for how much, and how much it refunded. */
  orders: { orderId: string; charges: number; chargedAmount: number; canceledAmount: number; balanceAmount: number }[];
}

export class SandboxService {
  constructor(
    private readonly ledger: SandboxLedger,
    private readonly clock: Clock,
    /** Told of every status change (DONE, ABORTED, CANCELED, PARTIAL_CANCELED, EXPIRED): the webhooks. */
    private readonly onStatusChange: (payment: TossPayment) => void = () => {},
  ) {}

  /** Stands in for the payment widget: the buyer authenticated, the payment waits for confirm. */
  checkout(input: CheckoutInput): { paymentKey: string } {
    const earlier = this.ledger.ofOrder(input.orderId).map((p) => this.#current(p));
    if (earlier.some((p) => p.approvedAt)) throw new TossError('DUPLICATED_ORDER_ID');
    if (input.amount < 100) throw new TossError('BELOW_MINIMUM_AMOUNT');
    const now = this.clock.now();
    const paymentKey = `tsbx${compactKst(now)}${base62(21)}`;
    this.ledger.add({
      paymentKey,
      orderId: input.orderId,
      orderName: input.orderName,
      totalAmount: input.amount,
      requestedAt: now,
      testCode: input.testCode ?? null,
      balanceAmount: input.amount,
      taxFreeAmount: 0,
      status: 'IN_PROGRESS',
      approvedAt: null,
      failure: null,
      card: null,
      lastTransactionKey: null,
      cancels: [],
    });
    return { paymentKey };
  }

  confirm(body: TossConfirmBody): TossPayment {
    const found = this.ledger.get(body.paymentKey);
    if (!found) throw new TossError('NOT_FOUND_PAYMENT');
    const p = this.#current(found);
    // Checked before "already processed": that answer means "paid" to most clients, so it must
    // never be given for another order's key or another amount.
    if (body.orderId !== p.orderId) throw new TossError('FORBIDDEN_REQUEST', '결제 요청의 주문번호와 승인 요청의 주문번호가 다릅니다.');
    if (body.amount !== p.totalAmount) throw new TossError('INVALID_REQUEST', '결제 요청 금액과 승인 요청 금액이 다릅니다.');
    if (p.approvedAt) throw new TossError('ALREADY_PROCESSED_PAYMENT');
    const now = this.clock.now();
    if (p.status !== 'IN_PROGRESS' || now.getTime() - p.requestedAt.getTime() > SESSION_TTL_MS) {
      throw new TossError('NOT_FOUND_PAYMENT_SESSION');
    }
    if (this.ledger.ofOrder(p.orderId).some((other) => other !== p && other.approvedAt)) throw new TossError('DUPLICATED_ORDER_ID');
    if (p.testCode) {
      // The buyer's card is refused: the payment ends ABORTED with the failure recorded.
      const refusal = new TossError(p.testCode);
      p.status = 'ABORTED';
      p.failure = refusal.body;
      this.onStatusChange(this.#wire(p));
      throw refusal;
    }
    p.status = 'DONE';
    p.approvedAt = now;
    p.lastTransactionKey = transactionKey();
    p.card = {
      amount: p.totalAmount,
      issuerCode: '11',
      acquirerCode: '41',
      number: `${String(randomInt(43300000, 43399999))}****${String(randomInt(100, 999))}*`,
      installmentPlanMonths: 0,
      approveNo: String(randomInt(0, 100_000_000)).padStart(8, '0'),
      useCardPoint: false,
      cardType: '신용',
      ownerType: '개인',
      acquireStatus: 'READY',
      isInterestFree: false,
      interestPayer: null,
    };
    return this.#changed(p);
  }

  get(paymentKey: string): TossPayment {
    const p = this.ledger.get(paymentKey);
    if (!p) throw new TossError('NOT_FOUND_PAYMENT');
    return this.#wire(this.#current(p));
  }

  /** The order's approved payment if there is one, else its latest checkout. */
  getByOrder(orderId: string): TossPayment {
    const payments = this.ledger.ofOrder(orderId).map((p) => this.#current(p));
    const p = payments.find((x) => x.approvedAt) ?? payments.at(-1);
    if (!p) throw new TossError('NOT_FOUND_PAYMENT');
    return this.#wire(p);
  }

  cancel(paymentKey: string, body: TossCancelBody): TossPayment {
    const found = this.ledger.get(paymentKey);
    if (!found) throw new TossError('NOT_FOUND_PAYMENT');
    const p = this.#current(found);
    // A fully cancelled payment answers NOT_CANCELABLE_PAYMENT: ALREADY_CANCELED_PAYMENT is not
    // in Toss's published table (B6), so a client must not be able to lean on it here either.
    if (p.status !== 'DONE' && p.status !== 'PARTIAL_CANCELED') throw new TossError('NOT_CANCELABLE_PAYMENT');
    if (body.refundableAmount !== undefined && body.refundableAmount !== p.balanceAmount) throw new TossError('NOT_MATCHES_REFUNDABLE_AMOUNT');
    const amount = body.cancelAmount ?? p.balanceAmount;
    const taxFree = body.taxFreeAmount ?? 0;
    if (amount > p.balanceAmount || taxFree > p.taxFreeAmount || taxFree > amount) throw new TossError('NOT_CANCELABLE_AMOUNT');
    const now = this.clock.now();
    p.balanceAmount -= amount;
    p.taxFreeAmount -= taxFree;
    const cancel: CancelRecord = {
      cancelAmount: amount,
      cancelReason: body.cancelReason,
      taxFreeAmount: taxFree,
      refundableAmount: p.balanceAmount,
      canceledAt: now,
      transactionKey: transactionKey(),
      receiptKey: base62(30),
    };
    p.cancels.push(cancel);
    p.lastTransactionKey = cancel.transactionKey;
    p.status = p.balanceAmount === 0 ? 'CANCELED' : 'PARTIAL_CANCELED';
    if (p.card && p.status === 'CANCELED') p.card.acquireStatus = 'CANCELED';
    return this.#changed(p);
  }

  /**
   * Applies the 30-minute expiry to every payment left IN_PROGRESS: a lookup applies it too, but
   * Toss announces EXPIRED whether or not anyone looks, so the webhook timer calls this.
   */
  expireDue(): void {
    for (const p of this.ledger.all()) if (p.status === 'IN_PROGRESS') this.#current(p);
  }

  /** The webhook events and their delivery attempts (sandbox.webhooks.ts), of one order id when given. */
  webhookDeliveries(orderId?: string): readonly WebhookDelivery[] {
    return this.ledger.deliveries(orderId);
  }

  ledgerView(orderId?: string): LedgerView {
    const payments = (orderId === undefined ? this.ledger.all() : this.ledger.ofOrder(orderId)).map((p) => this.#current(p));
    const orders = new Map<string, LedgerView['orders'][number]>();
    for (const p of payments) {
      const o = orders.get(p.orderId) ?? { orderId: p.orderId, charges: 0, chargedAmount: 0, canceledAmount: 0, balanceAmount: 0 };
      if (p.approvedAt) {
        o.charges += 1;
        o.chargedAmount += p.totalAmount;
        o.canceledAmount += p.totalAmount - p.balanceAmount;
        o.balanceAmount += p.balanceAmount;
      }
      orders.set(p.orderId, o);
    }
    return {
      payments: payments.map((p) => ({
        paymentKey: p.paymentKey,
        orderId: p.orderId,
        orderName: p.orderName,
        status: p.status,
        totalAmount: p.totalAmount,
        balanceAmount: p.balanceAmount,
        requestedAt: kst(p.requestedAt),
        approvedAt: p.approvedAt ? kst(p.approvedAt) : null,
        failure: p.failure,
        cancels: p.cancels.map((c) => ({
          cancelAmount: c.cancelAmount,
          cancelReason: c.cancelReason,
          canceledAt: kst(c.canceledAt),
          transactionKey: c.transactionKey,
        })),
      })),
      orders: [...orders.values()],
    };
  }

  /** Expiry is applied when a payment is looked at: the clock is the only thing that moves it. */
  #current(p: PaymentRecord): PaymentRecord {
    if (p.status === 'IN_PROGRESS' && this.clock.now().getTime() - p.requestedAt.getTime() >= EXPIRE_AFTER_MS) {
      p.status = 'EXPIRED';
      p.failure = { ...EXPIRED_PAYMENT };
      this.onStatusChange(this.#wire(p));
    }
    return p;
  }

  #changed(p: PaymentRecord): TossPayment {
    const payment = this.#wire(p);
    this.onStatusChange(payment);
    return payment;
  }

  #wire(p: PaymentRecord): TossPayment {
    const taxable = p.balanceAmount - p.taxFreeAmount;
    const suppliedAmount = Math.round(taxable / 1.1);
    return {
      version: TOSS_API_VERSION,
      paymentKey: p.paymentKey,
      type: 'NORMAL',
      orderId: p.orderId,
      orderName: p.orderName,
      mId: MID,
      currency: 'KRW',
      method: p.status === 'EXPIRED' ? null : '카드',
      totalAmount: p.totalAmount,
      balanceAmount: p.balanceAmount,
      status: p.status,
      requestedAt: kst(p.requestedAt),
      approvedAt: p.approvedAt ? kst(p.approvedAt) : null,
      useEscrow: false,
      lastTransactionKey: p.lastTransactionKey,
      suppliedAmount,
      vat: taxable - suppliedAmount,
      cultureExpense: false,
      taxFreeAmount: p.taxFreeAmount,
      taxExemptionAmount: 0,
      isPartialCancelable: true,
      country: 'KR',
      card: p.card ? { ...p.card } : null,
      virtualAccount: null,
      mobilePhone: null,
      giftCertificate: null,
      transfer: null,
      easyPay: null,
      receipt: p.lastTransactionKey ? { url: `https://dashboard.tosspayments.com/receipt/redirection?transactionId=${p.lastTransactionKey}&ref=PX` } : null,
      checkout: { url: `https://api.tosspayments.com/v1/payments/${p.paymentKey}/checkout` },
      cashReceipt: null,
      cashReceipts: null,
      discount: null,
      cancels: p.cancels.length
        ? p.cancels.map((c) => ({
            cancelAmount: c.cancelAmount,
            cancelReason: c.cancelReason,
            taxFreeAmount: c.taxFreeAmount,
            taxExemptionAmount: 0,
            refundableAmount: c.refundableAmount,
            easyPayDiscountAmount: 0,
            canceledAt: kst(c.canceledAt),
            transactionKey: c.transactionKey,
            receiptKey: c.receiptKey,
            cancelStatus: 'DONE',
            cancelRequestId: null,
          }))
        : null,
      failure: p.failure,
      secret: null,
      metadata: null,
    };
  }
}

/** `2026-01-01T09:00:00+09:00`: Toss's timestamps are Korean time with the offset written out. */
export function kst(at: Date): string {
  return `${new Date(at.getTime() + KST_OFFSET_MS).toISOString().slice(0, 19)}+09:00`;
}

function compactKst(at: Date): string {
  return kst(at).slice(0, 19).replace(/\D/g, '');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function base62(length: number): string {
  return [...randomBytes(length)].map((b) => ALPHABET[b % 62]).join('');
}

function transactionKey(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}
