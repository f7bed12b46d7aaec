import { useEffect, useRef, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { api, call } from '../../api/client.ts';
import type { Order, Quote, Ticket } from '../../api/types.ts';
import { admissionHeaders } from '../../admission.ts';
import { useI18n } from '../../i18n.ts';
import { navigate, query, useLocation } from '../../router.ts';
import { Link, Loading, Notice, PageTitle, ProblemMessage, useAction, useAsync, useNow } from '../../ui.tsx';

/** One Idempotency-Key per checkout of a set of seats, kept for the tab: a retried "Pay" replays the order placed first. */
function orderKey(scheduleId: string, seatIds: string[]): string {
  const name = `mos.orderKey.${scheduleId}.${[...seatIds].sort().join(',')}`;
  let key = sessionStorage.getItem(name);
  if (!key) sessionStorage.setItem(name, (key = crypto.randomUUID()));
  return key;
}

export function CheckoutPage({ scheduleId }: { scheduleId: string }) {
  const { t, money, clock } = useI18n();
  const now = useNow(1000);
  const [useCoupons, setUseCoupons] = useState(true);
  const base = useAsync(async () => {
    const [holds, layout] = await Promise.all([
      call(() => api.GET('/v1/schedules/{id}/holds', { params: { path: { id: scheduleId } } })),
      call(() => api.GET('/v1/schedules/{id}/layout', { params: { path: { id: scheduleId } } })),
    ]);
    const byId = new Map(layout.seats.map((s) => [s.seatId, s]));
    return { holds, seats: holds.seatIds.map((id) => byId.get(id)!).filter(Boolean) };
  }, [scheduleId]);
  const seatIds = base.data?.holds.seatIds ?? [];
  const quote = useAsync<Quote | null>(
    () =>
      seatIds.length
        ? call(() => api.POST('/v1/orders/quote', { body: { scheduleId, seatIds, ...(useCoupons ? {} : { couponIds: [] }) } }))
        : Promise.resolve(null),
    [seatIds.join(','), useCoupons],
  );
  const pay = useAction(async () => {
    const order = await call(() =>
      api.POST('/v1/orders', {
        body: { scheduleId, seatIds, ...(useCoupons ? {} : { couponIds: [] }) },
        params: { header: { 'idempotency-key': orderKey(scheduleId, seatIds) + (useCoupons ? '' : '-nc'), ...admissionHeaders(scheduleId) } },
      }),
    );
    navigate(`/pay/${order.id}`);
  });

  if (base.error) return <ProblemMessage error={base.error} />;
  if (!base.data) return <Loading />;
  const { holds, seats } = base.data;
  if (!seats.length) return <Notice kind="warning">{t('checkout.noHolds')}</Notice>;
  const left = holds.expiresAt ? Date.parse(holds.expiresAt) - now : 0;
  const q = quote.data;
  return (
    <section class="narrow">
      <PageTitle>{t('checkout.title')}</PageTitle>
      <p class="countdown" role="timer">
        {t('seats.expiresIn', { time: clock(left) })}
      </p>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{t('checkout.seat')}</th>
            <th scope="col">{t('seats.grade')}</th>
            <th scope="col" class="num">
              {t('checkout.price')}
            </th>
          </tr>
        </thead>
        <tbody>
          {seats.map((s) => (
            <tr key={s.seatId}>
              <td>{s.label}</td>
              <td>{s.grade}</td>
              <td class="num">{money(s.price)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <label class="check">
        <input type="checkbox" checked={useCoupons} onChange={(e) => setUseCoupons(e.currentTarget.checked)} /> {t('checkout.useCoupons')}
      </label>
      <ProblemMessage error={quote.error} />
      {q && (
        <div class="card summary" data-testid="quote">
          {q.coupons.length > 0 ? (
            <div class="coupon-applied">
              <strong>{t('checkout.bestCoupon')}</strong>
              <ul>
                {q.coupons.map((c) => (
                  <li key={c.id + (c.seatId ?? '')}>
                    {c.name} −{money(c.discount)}
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            useCoupons && <p class="muted">{t('checkout.noCoupon')}</p>
          )}
          <dl class="totals">
            <dt>{t('checkout.subtotal')}</dt>
            <dd>{money(q.subtotal)}</dd>
            <dt>{t('checkout.discount')}</dt>
            <dd>−{money(q.discount)}</dd>
            <dt>{t('checkout.amount')}</dt>
            <dd class="amount" data-testid="amount">
              {money(q.amount)}
            </dd>
          </dl>
        </div>
      )}
      <ProblemMessage error={pay.error} />
      <button type="button" class="primary wide" disabled={!q || pay.busy || left <= 0} onClick={() => pay.run()}>
        {q ? t('checkout.pay', { amount: money(q.amount) }) : t('common.loading')}
      </button>
    </section>
  );
}

const SANDBOX_TEST_KEY = 'test_sk_mos_sandbox';

/**
 * Stands in for the Toss payment widget: the sandbox PG built into MOS takes the "card" and
 * answers a paymentKey, and the browser goes on to the success address as Toss's widget
 * would (`?paymentKey&orderId&amount`), where MOS confirms the payment.
 */
export function SandboxPayPage({ orderId }: { orderId: string }) {
  const { t, money, clock } = useI18n();
  const now = useNow(1000);
  const [key, setKey] = useState(SANDBOX_TEST_KEY);
  const order = useAsync(() => call(() => api.GET('/v1/orders/{id}', { params: { path: { id: orderId } } })), [orderId]);
  const checkout = useAction(async (testCode?: string) => {
    const o = order.data!;
    const res = await fetch('/sandbox/toss/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`${key}:`)}` },
      body: JSON.stringify({ orderId: o.id, amount: o.amount, orderName: o.orderName, ...(testCode ? { testCode } : {}) }),
    });
    const body = (await res.json()) as { paymentKey?: string; code?: string; message?: string };
    // The sandbox answers as Toss does ({code, message}), not with MOS's problems.
    if (!res.ok || !body.paymentKey) throw new Error(body.message ?? body.code ?? res.statusText);
    navigate(`/payments/success?${new URLSearchParams({ paymentKey: body.paymentKey, orderId: o.id, amount: String(o.amount) })}`, { replace: true });
  });
  if (order.error) return <ProblemMessage error={order.error} />;
  if (!order.data) return <Loading />;
  const o = order.data;
  return (
    <section class="narrow">
      <PageTitle>{t('pay.title')}</PageTitle>
      <div class="card sandbox">
        <p class="muted">{t('pay.explain')}</p>
        <dl class="totals">
          <dt>{t('pay.order')}</dt>
          <dd>{o.orderName}</dd>
          <dt>{t('checkout.amount')}</dt>
          <dd class="amount">{money(o.amount)}</dd>
        </dl>
        {o.status === 'PENDING_PAYMENT' ? (
          <>
            <p class="countdown" role="timer">
              {t('checkout.orderExpires', { time: clock(Date.parse(o.expiresAt) - now) })}
            </p>
            <ProblemMessage error={checkout.error} />
            <button type="button" class="primary wide" disabled={checkout.busy} onClick={() => checkout.run()}>
              {t('pay.approve')}
            </button>
            <button type="button" class="wide" disabled={checkout.busy} onClick={() => checkout.run('REJECT_CARD_PAYMENT')}>
              {t('pay.decline')}
            </button>
            <details>
              <summary>{t('pay.key')}</summary>
              <input aria-label={t('pay.key')} value={key} onInput={(e) => setKey(e.currentTarget.value)} />
            </details>
          </>
        ) : (
          <p>{t(`orders.status.${o.status}`)}</p>
        )}
      </div>
    </section>
  );
}

export function PaymentSuccessPage() {
  const { t, money } = useI18n();
  const { search } = useLocation();
  const paymentKey = query(search, 'paymentKey') ?? '';
  const orderId = query(search, 'orderId') ?? '';
  const amount = Number(query(search, 'amount'));
  const [result, setResult] = useState<{ order: Order; tickets: Ticket[] } | 'pending' | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    (async () => {
      const res = await call(() =>
        api.POST('/v1/payments/confirm', { body: { paymentKey, orderId, amount }, headers: { 'idempotency-key': `confirm-${paymentKey}` } }),
      );
      if ('order' in res) setResult({ order: res.order as Order, tickets: res.tickets as Ticket[] });
      else setResult('pending');
    })().catch(setError);
  }, [paymentKey]);
  return (
    <section class="narrow">
      <PageTitle>{error ? t('pay.failed') : result && result !== 'pending' ? t('pay.done') : t('pay.confirming')}</PageTitle>
      {error ? (
        <>
          <ProblemMessage error={error} />
          <Link class="button" href={`/pay/${orderId}`}>
            {t('pay.retry')}
          </Link>
        </>
      ) : null}
      {!result && !error && <Loading />}
      {result === 'pending' && <Notice>{t('pay.confirming')}</Notice>}
      {result && result !== 'pending' && (
        <>
          <p>
            {result.order.orderName} · <strong>{money(result.order.amount)}</strong>
          </p>
          <TicketList tickets={result.tickets} />
        </>
      )}
    </section>
  );
}

/** A ticket with its QR code (the ticket's code, drawn on a canvas by the qrcode package). */
export function TicketCard({ ticket }: { ticket: Ticket }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) void QRCode.toCanvas(canvas.current, ticket.code, { width: 168, margin: 2, errorCorrectionLevel: 'M' });
  }, [ticket.code]);
  return (
    <li class={`card ticket ${ticket.status === 'VALID' ? '' : 'void'}`} data-testid="ticket">
      <canvas ref={canvas} role="img" aria-label={t('tickets.qr', { label: ticket.seatLabel })} data-code={ticket.code} width={168} height={168} />
      <div>
        <strong class="seat-label">{ticket.seatLabel}</strong>
        <p class={`badge ${ticket.status === 'VALID' ? 'ok' : 'muted'}`}>{t(`tickets.status.${ticket.status}`)}</p>
        <p class="muted small">
          {t('tickets.code')}: <code>{ticket.code}</code>
        </p>
        {ticket.status === 'VALID' && <p class="small">{t('tickets.show')}</p>}
      </div>
    </li>
  );
}

export function TicketList({ tickets }: { tickets: Ticket[] }) {
  return (
    <ul class="tickets">
      {tickets.map((tk) => (
        <TicketCard key={tk.id} ticket={tk} />
      ))}
    </ul>
  );
}
