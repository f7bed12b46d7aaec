import { useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import type { Campaign, Order, WalletCoupon } from '../../api/types.ts';
import { type I18n, useI18n } from '../../i18n.ts';
import { Link, Loading, Notice, PageTitle, ProblemMessage, useAction, useAsync } from '../../ui.tsx';
import { TicketList } from './checkout.tsx';

export function TicketsPage() {
  const { t } = useI18n();
  const tickets = useAsync(() => call(() => api.GET('/v1/me/tickets', { params: { query: { limit: 100 } } })), []);
  return (
    <section>
      <PageTitle>{t('tickets.title')}</PageTitle>
      <ProblemMessage error={tickets.error} />
      {tickets.loading && <Loading />}
      {tickets.data && (tickets.data.items.length ? <TicketList tickets={tickets.data.items} /> : <p>{t('common.none')}</p>)}
    </section>
  );
}

function OrderCard({ order, onChange }: { order: Order; onChange: () => void }) {
  const { t, money, date } = useI18n();
  const [confirming, setConfirming] = useState(false);
  const cancel = useAction(async () => {
    await call(() => api.POST('/v1/orders/{id}/cancel', { params: { path: { id: order.id } }, body: {} }));
    setConfirming(false);
    onChange();
  });
  const paid = order.status === 'PAID';
  return (
    <li class="card order" data-testid="order" data-status={order.status}>
      <div class="order-head">
        <strong>{order.orderName}</strong>
        <span class={`badge status-${order.status}`}>{t(`orders.status.${order.status}`)}</span>
      </div>
      <p class="muted small">{t('orders.placed', { date: date(order.createdAt) })}</p>
      <ul class="seat-list">
        {order.items.map((i) => (
          <li key={i.seatId}>
            <span>
              {i.label} · {i.grade}
            </span>
            <span>{money(i.price - i.discount)}</span>
          </li>
        ))}
      </ul>
      <p>
        {t('common.total')} <strong>{money(order.amount)}</strong>
        {order.discount > 0 && <span class="muted"> (−{money(order.discount)})</span>}
      </p>
      <ProblemMessage error={cancel.error} />
      <div class="actions">
        {order.status === 'PENDING_PAYMENT' && (
          <Link class="button primary" href={`/pay/${order.id}`}>
            {t('orders.pay')}
          </Link>
        )}
        {(paid || order.status === 'PENDING_PAYMENT') &&
          (confirming && paid ? (
            <span class="confirm">
              {t('orders.confirmRefund')}{' '}
              <button type="button" class="danger" disabled={cancel.busy} onClick={() => cancel.run()}>
                {t('orders.refund')}
              </button>{' '}
              <button type="button" onClick={() => setConfirming(false)}>
                {t('common.cancel')}
              </button>
            </span>
          ) : (
            <button type="button" class={paid ? 'danger' : ''} disabled={cancel.busy} onClick={() => (paid ? setConfirming(true) : cancel.run())}>
              {paid ? t('orders.refund') : t('orders.cancel')}
            </button>
          ))}
      </div>
    </li>
  );
}

export function OrdersPage() {
  const { t } = useI18n();
  const orders = useAsync(() => call(() => api.GET('/v1/me/orders', { params: { query: { limit: 50 } } })), []);
  return (
    <section>
      <PageTitle>{t('orders.title')}</PageTitle>
      <ProblemMessage error={orders.error} />
      {orders.loading && !orders.data && <Loading />}
      {orders.data && (
        <ul class="cards">
          {orders.data.items.map((o) => (
            <OrderCard key={o.id} order={o as Order} onChange={orders.reload} />
          ))}
        </ul>
      )}
      {orders.data?.items.length === 0 && <p>{t('common.none')}</p>}
    </section>
  );
}

/** What a coupon gives, in words: "10% off (up to ₩20,000)", "₩5,000 off each VIP seat". */
export function couponBenefit(c: Pick<Campaign, 'kind' | 'params' | 'appliesTo'>, { t, money }: I18n): string {
  const p = c.params as { percent?: number; maxDiscount?: number; amount?: number; grade?: string };
  const what =
    c.kind === 'PERCENT'
      ? p.maxDiscount
        ? t('coupons.percentMax', { percent: p.percent ?? 0, max: money(p.maxDiscount) })
        : t('coupons.percent', { percent: p.percent ?? 0 })
      : c.kind === 'GRADE_FIXED'
        ? t('coupons.gradeFixed', { amount: money(p.amount ?? 0), grade: p.grade ?? '' })
        : t('coupons.fixed', { amount: money(p.amount ?? 0) });
  return `${what} · ${c.appliesTo === 'TICKET' ? t('coupons.perTicket') : t('coupons.perOrder')}`;
}

export function CouponsPage() {
  const i = useI18n();
  const { t, date, number } = i;
  const campaigns = useAsync(() => call(() => api.GET('/v1/coupons', {})), []);
  const wallet = useAsync(() => call(() => api.GET('/v1/me/coupons', { params: { query: { limit: 100 } } })), []);
  const [claimed, setClaimed] = useState<string | null>(null);
  const claim = useAction(async (id: string) => {
    await call(() => api.POST('/v1/coupons/{id}/claims', { params: { path: { id } } }));
    setClaimed(id);
    campaigns.reload();
    // The wallet is written by a consumer moments later.
    setTimeout(wallet.reload, 1200);
  });
  const owned = new Set(wallet.data?.items.map((c: WalletCoupon) => c.campaignId));
  return (
    <section>
      <PageTitle>{t('coupons.title')}</PageTitle>
      <h2>{t('coupons.open')}</h2>
      <ProblemMessage error={campaigns.error ?? claim.error} />
      {claimed && <Notice kind="success">{t('coupons.claimed')}</Notice>}
      <ul class="cards">
        {campaigns.data?.items.map((c) => (
          <li key={c.id} class="card coupon">
            <strong>{c.name}</strong>
            <p>{couponBenefit(c, i)}</p>
            <p class="muted small">
              {t('coupons.remaining', { n: number(c.remaining) })} · {t('coupons.validUntil', { date: date(c.validUntil) })}
            </p>
            <button type="button" class="primary" disabled={claim.busy || owned.has(c.id) || c.remaining === 0} onClick={() => claim.run(c.id)}>
              {owned.has(c.id) ? t('coupons.owned') : t('coupons.claim')}
            </button>
          </li>
        ))}
      </ul>
      {campaigns.data?.items.length === 0 && <p>{t('common.none')}</p>}
      <h2>{t('coupons.wallet')}</h2>
      <ProblemMessage error={wallet.error} />
      <ul class="cards" data-testid="wallet">
        {wallet.data?.items.map((c) => (
          <li key={c.id} class="card coupon">
            <strong>{c.name}</strong> <span class="badge">{t(`coupons.status.${c.status}`)}</span>
            <p>{couponBenefit(c, i)}</p>
            <p class="muted small">{t('coupons.validUntil', { date: date(c.validUntil) })}</p>
          </li>
        ))}
      </ul>
      {wallet.data?.items.length === 0 && <p>{t('common.none')}</p>}
    </section>
  );
}
