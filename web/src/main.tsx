import { render } from 'preact';
import { logout, session } from './api/client.ts';
import { lang, useI18n } from './i18n.ts';
import { CouponsPage, OrdersPage, TicketsPage } from './pages/buyer/account.tsx';
import { CheckoutPage, PaymentSuccessPage, SandboxPayPage } from './pages/buyer/checkout.tsx';
import { HomePage, PerformancePage } from './pages/buyer/performances.tsx';
import { QueuePage } from './pages/buyer/queue.tsx';
import { SeatsPage } from './pages/buyer/seats.tsx';
import { LoginPage, SignupPage } from './pages/auth.tsx';
import { NewPerformancePage, NewVenuePage, SalesPage, SellerHome, SellerPerformancePage, SettlementPage, SettlementsPage } from './pages/seller/seller.tsx';
import { match, navigate, query, useLocation } from './router.ts';
import { useStore } from './store.ts';
import { Link, Notice, RequireLogin } from './ui.tsx';
import './styles.css';

type Page = (params: Record<string, string>, search: string) => preact.JSX.Element;

const buyer =
  (page: Page): Page =>
  (p, s) => <RequireLogin>{page(p, s)}</RequireLogin>;
const seller =
  (page: Page): Page =>
  (p, s) => <RequireLogin need="SELLER">{page(p, s)}</RequireLogin>;

/** The app's paths; the server answers index.html for each of them. */
const routes: [string, Page][] = [
  ['/', () => <HomePage />],
  ['/login', () => <LoginPage />],
  ['/signup', () => <SignupPage />],
  ['/performances/:id', (p) => <PerformancePage id={p.id!} />],
  ['/schedules/:id/queue', buyer((p) => <QueuePage scheduleId={p.id!} />)],
  ['/schedules/:id/seats', buyer((p) => <SeatsPage scheduleId={p.id!} />)],
  ['/checkout/:id', buyer((p) => <CheckoutPage scheduleId={p.id!} />)],
  ['/pay/:orderId', buyer((p) => <SandboxPayPage orderId={p.orderId!} />)],
  ['/payments/success', buyer(() => <PaymentSuccessPage />)],
  ['/orders', buyer(() => <OrdersPage />)],
  ['/tickets', buyer(() => <TicketsPage />)],
  ['/coupons', buyer(() => <CouponsPage />)],
  ['/seller', seller(() => <SellerHome />)],
  ['/seller/venues/new', seller(() => <NewVenuePage />)],
  ['/seller/performances/new', seller((_, s) => <NewPerformancePage venueId={query(s, 'venueId')} />)],
  ['/seller/performances/:id', seller((p) => <SellerPerformancePage id={p.id!} />)],
  ['/seller/sales', seller(() => <SalesPage />)],
  ['/seller/settlements', seller(() => <SettlementsPage />)],
  ['/seller/settlements/:id', seller((p) => <SettlementPage id={p.id!} />)],
];

function Header() {
  const { t, lang: current } = useI18n();
  const s = useStore(session);
  const isSeller = s?.user.role === 'SELLER' || s?.user.role === 'ADMIN';
  return (
    <header class="top">
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <Link class="brand" href="/">
        <img src="/favicon.svg" alt="" width={28} height={28} /> {t('app.name')}
      </Link>
      <nav aria-label="main">
        <Link href="/">{t('nav.performances')}</Link>
        {s && !isSeller && (
          <>
            <Link href="/coupons">{t('nav.coupons')}</Link>
            <Link href="/orders">{t('nav.orders')}</Link>
            <Link href="/tickets">{t('nav.tickets')}</Link>
          </>
        )}
        {isSeller && <Link href="/seller">{t('nav.seller')}</Link>}
        {s ? (
          <button
            type="button"
            class="link"
            title={t('auth.signedInAs', { name: s.user.name })}
            onClick={async () => {
              await logout();
              navigate('/');
            }}
          >
            {t('nav.logout')}
          </button>
        ) : (
          <Link href={`/login?next=${encodeURIComponent(window.location.pathname)}`}>{t('nav.login')}</Link>
        )}
        <fieldset class="lang">
          <legend class="visually-hidden">{t('nav.language')}</legend>
          {(['ko', 'en'] as const).map((l) => (
            <button key={l} type="button" aria-pressed={current === l} lang={l} onClick={() => lang.set(l)}>
              {l === 'ko' ? '한국어' : 'English'}
            </button>
          ))}
        </fieldset>
      </nav>
    </header>
  );
}

function App() {
  const { path, search } = useLocation();
  const { t } = useI18n();
  let page: preact.JSX.Element | null = null;
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = render(params, search);
      break;
    }
  }
  return (
    <>
      <Header />
      <main id="main" key={path}>
        {page ?? <Notice kind="warning">{t('notFound')}</Notice>}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
