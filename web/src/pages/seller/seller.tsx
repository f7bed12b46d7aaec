import { useState } from 'preact/hooks';
import { api, authorizedFetch, call, session } from '../../api/client.ts';
import type { Performance, PerformanceSummary, Venue } from '../../api/types.ts';
import { useI18n } from '../../i18n.ts';
import { navigate } from '../../router.ts';
import { useStore } from '../../store.ts';
import { Field, Link, Loading, Notice, PageTitle, ProblemMessage, fromLocalInput, toLocalInput, useAction, useAsync, useNow } from '../../ui.tsx';
import { saleState } from '../buyer/performances.tsx';
import { couponBenefit } from '../buyer/account.tsx';

/** MOS lists no seller's venues; the venues this browser made, and those of the seller's performances, are known. */
const VENUES_KEY = 'mos.sellerVenues';
const knownVenueIds = (): string[] => JSON.parse(localStorage.getItem(VENUES_KEY) ?? '[]') as string[];
const rememberVenue = (id: string) => localStorage.setItem(VENUES_KEY, JSON.stringify([...new Set([id, ...knownVenueIds()])]));

/** The seller's own performances: the catalog's list, filtered to this seller (up to 5 pages of 100). */
async function myPerformances(sellerId: string): Promise<PerformanceSummary[]> {
  const mine: PerformanceSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const res = await call(() => api.GET('/v1/performances', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
    mine.push(...res.items.filter((p) => p.sellerId === sellerId));
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return mine;
}

async function myVenues(sellerId: string): Promise<Venue[]> {
  const perf = await myPerformances(sellerId);
  const ids = [...new Set([...knownVenueIds(), ...perf.map((p) => p.venueId)])];
  const venues = await Promise.all(ids.map((id) => call(() => api.GET('/v1/venues/{venueId}', { params: { path: { venueId: id } } })).catch(() => null)));
  return venues.filter((v): v is Venue => v !== null);
}

export function SellerHome() {
  const { t, date, number } = useI18n();
  const s = useStore(session)!;
  const data = useAsync(async () => ({ performances: await myPerformances(s.user.id), venues: await myVenues(s.user.id) }), [s.user.id]);
  return (
    <section>
      <PageTitle>{t('seller.title')}</PageTitle>
      <nav class="actions" aria-label={t('seller.title')}>
        <Link class="button primary" href="/seller/venues/new">
          + {t('seller.newVenue')}
        </Link>
        <Link class="button primary" href="/seller/performances/new">
          + {t('seller.newPerformance')}
        </Link>
        <Link class="button" href="/seller/sales">
          {t('seller.sales')}
        </Link>
        <Link class="button" href="/seller/settlements">
          {t('seller.settlements')}
        </Link>
      </nav>
      <ProblemMessage error={data.error} />
      {data.loading && <Loading />}
      <h2>{t('seller.performances')}</h2>
      <ul class="cards">
        {data.data?.performances.map((p) => (
          <li key={p.id} class="card">
            <h3>
              <Link href={`/seller/performances/${p.id}`}>{p.title}</Link>
            </h3>
            <p class="muted">
              {t('home.next')}: {p.nextScheduleAt ? date(p.nextScheduleAt) : t('home.noShows')}
            </p>
          </li>
        ))}
      </ul>
      {data.data?.performances.length === 0 && <p>{t('common.none')}</p>}
      <h2>{t('seller.venues')}</h2>
      <ul class="cards">
        {data.data?.venues.map((v) => (
          <li key={v.id} class="card">
            <strong>{v.name}</strong>
            <p class="muted">
              {v.address} · {t('common.seats', { n: number(v.seatCount) })} · {v.sections.map((x) => x.name).join(', ')}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

interface SectionDraft {
  name: string;
  rows: number;
  seats: number;
  letters: boolean;
}

export function NewVenuePage() {
  const { t, number } = useI18n();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [sections, setSections] = useState<SectionDraft[]>([{ name: 'A', rows: 10, seats: 20, letters: false }]);
  const total = sections.reduce((n, s) => n + s.rows * s.seats, 0);
  const create = useAction(async () => {
    const label = (i: number, letters: boolean) =>
      letters
        ? i < 26
          ? String.fromCharCode(65 + i)
          : `${String.fromCharCode(65 + Math.floor(i / 26) - 1)}${String.fromCharCode(65 + (i % 26))}`
        : String(i + 1);
    const venue = await call(() =>
      api.POST('/v1/venues', {
        body: {
          name,
          ...(address ? { address } : {}),
          sections: sections.map((s) => ({ name: s.name, rows: Array.from({ length: s.rows }, (_, i) => ({ label: label(i, s.letters), seats: s.seats })) })),
        },
      }),
    );
    rememberVenue(venue.id);
    navigate(`/seller/performances/new?venueId=${venue.id}`);
  });
  const update = (k: number, patch: Partial<SectionDraft>) => setSections(sections.map((s, i) => (i === k ? { ...s, ...patch } : s)));
  return (
    <section class="narrow">
      <PageTitle>{t('seller.newVenue')}</PageTitle>
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label={t('venue.name')}>
          <input name="venueName" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label={t('venue.address')}>
          <input name="address" maxLength={500} value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
        </Field>
        <fieldset>
          <legend>{t('venue.sections')}</legend>
          {sections.map((s, k) => (
            <div class="row-form" key={k} data-testid="section">
              <Field label={t('venue.section')}>
                <input
                  name={`section-${k}`}
                  required
                  pattern="[^\-\s][^\-]*"
                  maxLength={20}
                  value={s.name}
                  onInput={(e) => update(k, { name: e.currentTarget.value })}
                />
              </Field>
              <Field label={t('venue.rows')}>
                <input
                  type="number"
                  name={`rows-${k}`}
                  min={1}
                  max={500}
                  required
                  value={s.rows}
                  onInput={(e) => update(k, { rows: e.currentTarget.valueAsNumber || 0 })}
                />
              </Field>
              <Field label={t('venue.seatsPerRow')}>
                <input
                  type="number"
                  name={`seats-${k}`}
                  min={1}
                  max={500}
                  required
                  value={s.seats}
                  onInput={(e) => update(k, { seats: e.currentTarget.valueAsNumber || 0 })}
                />
              </Field>
              <Field label={t('venue.rowLabels')}>
                <select value={s.letters ? 'letters' : 'numbers'} onChange={(e) => update(k, { letters: e.currentTarget.value === 'letters' })}>
                  <option value="numbers">{t('venue.rowLabels.numbers')}</option>
                  <option value="letters">{t('venue.rowLabels.letters')}</option>
                </select>
              </Field>
              {sections.length > 1 && (
                <button type="button" class="link" onClick={() => setSections(sections.filter((_, i) => i !== k))}>
                  {t('common.remove')}
                </button>
              )}
            </div>
          ))}
          <button
            type="button"
            onClick={() => setSections([...sections, { name: String.fromCharCode(65 + sections.length), rows: 10, seats: 20, letters: false }])}
          >
            + {t('venue.addSection')}
          </button>
        </fieldset>
        <p>
          <strong>{t('venue.total', { n: number(total) })}</strong>
        </p>
        <ProblemMessage error={create.error} />
        <button type="submit" class="primary" disabled={create.busy}>
          {t('common.create')}
        </button>
      </form>
    </section>
  );
}

export function NewPerformancePage({ venueId: given }: { venueId: string | null }) {
  const { t } = useI18n();
  const s = useStore(session)!;
  const venues = useAsync(() => myVenues(s.user.id), [s.user.id]);
  const [form, setForm] = useState({ title: '', description: '', venueId: given ?? '', runningMinutes: 120, defaultGrade: 'S' });
  const [grades, setGrades] = useState([
    { name: 'R', price: 132000 },
    { name: 'S', price: 99000 },
  ]);
  const [rules, setRules] = useState<{ grade: string; section: string; rows: string }[]>([{ grade: 'R', section: '', rows: '' }]);
  const venueId = form.venueId || venues.data?.[0]?.id || '';
  const venue = venues.data?.find((v) => v.id === venueId);
  const create = useAction(async () => {
    const p = await call(() =>
      api.POST('/v1/performances', {
        body: {
          title: form.title,
          ...(form.description ? { description: form.description } : {}),
          venueId,
          runningMinutes: form.runningMinutes,
          grades,
          seatGrades: rules
            .filter((r) => r.section)
            .map((r) => {
              const rows = r.rows
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean);
              return { grade: r.grade, section: r.section, ...(rows.length ? { rows } : {}) };
            }),
          defaultGrade: form.defaultGrade,
        },
      }),
    );
    navigate(`/seller/performances/${p.id}`);
  });
  if (venues.loading) return <Loading />;
  return (
    <section class="narrow">
      <PageTitle>{t('seller.newPerformance')}</PageTitle>
      {venues.data?.length === 0 && (
        <Notice kind="warning">
          {t('perfForm.noVenue')} <Link href="/seller/venues/new">{t('seller.newVenue')}</Link>
        </Notice>
      )}
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label={t('perfForm.title')}>
          <input name="title" required maxLength={200} value={form.title} onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} />
        </Field>
        <Field label={t('perfForm.description')}>
          <textarea name="description" value={form.description} onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} />
        </Field>
        <Field label={t('perfForm.venue')}>
          <select name="venue" value={venueId} onChange={(e) => setForm({ ...form, venueId: e.currentTarget.value })}>
            {venues.data?.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name} ({v.seatCount})
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('perfForm.running')}>
          <input
            type="number"
            name="runningMinutes"
            min={1}
            required
            value={form.runningMinutes}
            onInput={(e) => setForm({ ...form, runningMinutes: e.currentTarget.valueAsNumber || 0 })}
          />
        </Field>
        <fieldset>
          <legend>{t('perfForm.grades')}</legend>
          {grades.map((g, k) => (
            <div class="row-form" key={k}>
              <Field label={t('perfForm.gradeName')}>
                <input
                  name={`grade-${k}`}
                  required
                  maxLength={20}
                  value={g.name}
                  onInput={(e) => setGrades(grades.map((x, i) => (i === k ? { ...x, name: e.currentTarget.value } : x)))}
                />
              </Field>
              <Field label={t('perfForm.price')}>
                <input
                  type="number"
                  name={`price-${k}`}
                  min={0}
                  step={1000}
                  required
                  value={g.price}
                  onInput={(e) => setGrades(grades.map((x, i) => (i === k ? { ...x, price: e.currentTarget.valueAsNumber || 0 } : x)))}
                />
              </Field>
              {grades.length > 1 && (
                <button type="button" class="link" onClick={() => setGrades(grades.filter((_, i) => i !== k))}>
                  {t('common.remove')}
                </button>
              )}
            </div>
          ))}
          <button type="button" onClick={() => setGrades([...grades, { name: '', price: 0 }])}>
            + {t('perfForm.addGrade')}
          </button>
        </fieldset>
        <fieldset>
          <legend>{t('perfForm.rules')}</legend>
          {rules.map((r, k) => (
            <div class="row-form" key={k}>
              <Field label={t('perfForm.gradeName')}>
                <select
                  name={`rule-grade-${k}`}
                  value={r.grade}
                  onChange={(e) => setRules(rules.map((x, i) => (i === k ? { ...x, grade: e.currentTarget.value } : x)))}
                >
                  {grades.map((g) => (
                    <option key={g.name}>{g.name}</option>
                  ))}
                </select>
              </Field>
              <Field label={t('venue.section')}>
                <select
                  name={`rule-section-${k}`}
                  value={r.section}
                  onChange={(e) => setRules(rules.map((x, i) => (i === k ? { ...x, section: e.currentTarget.value } : x)))}
                >
                  <option value="">—</option>
                  {venue?.sections.map((sec) => (
                    <option key={sec.name}>{sec.name}</option>
                  ))}
                </select>
              </Field>
              <Field label={t('perfForm.ruleRows')}>
                <input
                  name={`rule-rows-${k}`}
                  value={r.rows}
                  onInput={(e) => setRules(rules.map((x, i) => (i === k ? { ...x, rows: e.currentTarget.value } : x)))}
                />
              </Field>
              <button type="button" class="link" onClick={() => setRules(rules.filter((_, i) => i !== k))}>
                {t('common.remove')}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setRules([...rules, { grade: grades[0]?.name ?? '', section: '', rows: '' }])}>
            + {t('perfForm.addRule')}
          </button>
        </fieldset>
        <Field label={t('perfForm.defaultGrade')}>
          <select name="defaultGrade" value={form.defaultGrade} onChange={(e) => setForm({ ...form, defaultGrade: e.currentTarget.value })}>
            {grades.map((g) => (
              <option key={g.name}>{g.name}</option>
            ))}
          </select>
        </Field>
        <ProblemMessage error={create.error} />
        <button type="submit" class="primary" disabled={create.busy || !venueId}>
          {t('common.create')}
        </button>
      </form>
    </section>
  );
}

function ShowtimeLive({ scheduleId }: { scheduleId: string }) {
  const { t, number } = useI18n();
  useNow(3000);
  const s = useAsync(() => call(() => api.GET('/v1/schedules/{id}', { params: { path: { id: scheduleId } } })), [Math.floor(Date.now() / 3000)]);
  if (!s.data) return null;
  const c = s.data.counts;
  return (
    <span class="live-counts" data-testid="showtime-counts" data-sold={c.sold}>
      <span class="dot stream" />{' '}
      {t('show.counts', { sold: number(c.sold), held: number(c.held), available: number(c.available), total: number(s.data.seatCount) })}
    </span>
  );
}

export function SellerPerformancePage({ id }: { id: string }) {
  const i18n = useI18n();
  const { t, date, money } = i18n;
  const now = useNow(10_000);
  const perf = useAsync(() => call(() => api.GET('/v1/performances/{id}', { params: { path: { id } } })), [id]);
  const campaigns = useAsync(() => call(() => api.GET('/v1/coupons', { params: { query: { performanceId: id } } })), [id]);
  if (perf.error) return <ProblemMessage error={perf.error} />;
  if (!perf.data) return <Loading />;
  const p = perf.data;
  return (
    <section>
      <PageTitle>{p.title}</PageTitle>
      <p class="muted">
        {p.grades.map((g) => `${g.name} ${money(g.price)}`).join(' · ')} —{' '}
        <Link href={`/performances/${p.id}`} aria-label={t('seller.buyerView')} title={t('seller.buyerView')}>
          ↗
        </Link>
      </p>
      <h2>{t('perf.showtimes')}</h2>
      <ul class="cards">
        {p.schedules.map((s) => {
          const state = saleState(s, now);
          return (
            <li key={s.id} class="card showtime" data-testid="seller-showtime" data-sale={state}>
              <div>
                <strong>{date(s.startsAt)}</strong>{' '}
                <span class={`badge ${state === 'open' ? 'ok' : ''}`}>
                  {state === 'open' ? t('show.open') : state === 'upcoming' ? t('show.upcoming', { date: date(s.saleOpensAt) }) : t('show.closed')}
                </span>
                {s.waitingRoom.enabled && (
                  <span class="badge">
                    {t('perf.waitingRoom')} {s.waitingRoom.maxActive}/{s.waitingRoom.admitPerTick}
                  </span>
                )}
                <div class="muted small">
                  {t('perf.saleOpens')} {date(s.saleOpensAt)} · {t('perf.saleCloses')} {date(s.saleClosesAt)}
                </div>
                <ShowtimeLive scheduleId={s.id} />
              </div>
            </li>
          );
        })}
      </ul>
      {p.schedules.length === 0 && <p>{t('common.none')}</p>}
      <NewShowtimeForm performance={p} onCreated={perf.reload} />
      <h2>{t('campaigns.list')}</h2>
      <ul class="cards">
        {campaigns.data?.items
          // The list also holds the platform's campaigns for every performance; the seller's page shows this performance's own.
          .filter((c) => c.scope?.performanceId === id)
          .map((c) => (
            <li key={c.id} class="card coupon">
              <strong>{c.name}</strong> <span class="muted">{couponBenefit(c, i18n)}</span>
              <p class="muted small">{t('coupons.remaining', { n: c.remaining })}</p>
            </li>
          ))}
      </ul>
      <NewCampaignForm performance={p} onCreated={campaigns.reload} />
    </section>
  );
}

function NewShowtimeForm({ performance, onCreated }: { performance: Performance; onCreated: () => void }) {
  const { t, date } = useI18n();
  const hour = 3_600_000;
  const [form, setForm] = useState({
    startsAt: toLocalInput(new Date(Date.now() + 30 * 24 * hour)),
    saleOpensAt: toLocalInput(new Date(Date.now() + 60_000)),
    saleClosesAt: '',
    waitingRoom: true,
    maxActive: 100,
    admitPerTick: 10,
  });
  const [created, setCreated] = useState<string | null>(null);
  const create = useAction(async () => {
    const s = await call(() =>
      api.POST('/v1/performances/{id}/schedules', {
        params: { path: { id: performance.id } },
        body: {
          startsAt: fromLocalInput(form.startsAt),
          saleOpensAt: fromLocalInput(form.saleOpensAt),
          ...(form.saleClosesAt ? { saleClosesAt: fromLocalInput(form.saleClosesAt) } : {}),
          waitingRoom: form.waitingRoom ? { enabled: true, maxActive: form.maxActive, admitPerTick: form.admitPerTick } : { enabled: false },
        },
      }),
    );
    setCreated(date(s.saleOpensAt));
    onCreated();
  });
  return (
    <form
      class="card form"
      aria-labelledby="new-showtime"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h2 id="new-showtime">{t('show.new')}</h2>
      <div class="row-form">
        <Field label={t('show.startsAt')}>
          <input type="datetime-local" name="startsAt" required value={form.startsAt} onInput={(e) => setForm({ ...form, startsAt: e.currentTarget.value })} />
        </Field>
        <Field label={t('show.saleOpensAt')}>
          <input
            type="datetime-local"
            name="saleOpensAt"
            required
            value={form.saleOpensAt}
            onInput={(e) => setForm({ ...form, saleOpensAt: e.currentTarget.value })}
          />
        </Field>
        <Field label={t('show.saleClosesAt')}>
          <input
            type="datetime-local"
            name="saleClosesAt"
            value={form.saleClosesAt}
            onInput={(e) => setForm({ ...form, saleClosesAt: e.currentTarget.value })}
          />
        </Field>
      </div>
      <label class="check">
        <input type="checkbox" name="waitingRoom" checked={form.waitingRoom} onChange={(e) => setForm({ ...form, waitingRoom: e.currentTarget.checked })} />{' '}
        {t('show.waitingRoom')}
      </label>
      {form.waitingRoom && (
        <div class="row-form">
          <Field label={t('show.maxActive')}>
            <input
              type="number"
              name="maxActive"
              min={1}
              value={form.maxActive}
              onInput={(e) => setForm({ ...form, maxActive: e.currentTarget.valueAsNumber || 1 })}
            />
          </Field>
          <Field label={t('show.admitPerTick')}>
            <input
              type="number"
              name="admitPerTick"
              min={1}
              value={form.admitPerTick}
              onInput={(e) => setForm({ ...form, admitPerTick: e.currentTarget.valueAsNumber || 1 })}
            />
          </Field>
        </div>
      )}
      <ProblemMessage error={create.error} />
      {created && <Notice kind="success">{t('show.created', { date: created })}</Notice>}
      <button type="submit" class="primary" disabled={create.busy}>
        {t('common.create')}
      </button>
    </form>
  );
}

function NewCampaignForm({ performance, onCreated }: { performance: Performance; onCreated: () => void }) {
  const { t } = useI18n();
  const day = 86_400_000;
  const [form, setForm] = useState({
    name: '',
    kind: 'PERCENT' as 'PERCENT' | 'FIXED' | 'GRADE_FIXED',
    percent: 10,
    maxDiscount: '',
    amount: 5000,
    grade: performance.grades[0]?.name ?? '',
    appliesTo: 'ORDER' as 'ORDER' | 'TICKET',
    quantity: 100,
    perUserLimit: 1,
    claimOpensAt: toLocalInput(new Date()),
    claimClosesAt: '',
    validUntil: toLocalInput(new Date(Date.now() + 60 * day)),
  });
  const [created, setCreated] = useState<number | null>(null);
  const create = useAction(async () => {
    const params =
      form.kind === 'PERCENT'
        ? { percent: form.percent, ...(form.maxDiscount ? { maxDiscount: Number(form.maxDiscount) } : {}) }
        : form.kind === 'FIXED'
          ? { amount: form.amount }
          : { grade: form.grade, amount: form.amount };
    const c = await call(() =>
      api.POST('/v1/coupons', {
        body: {
          name: form.name,
          kind: form.kind,
          params,
          appliesTo: form.kind === 'GRADE_FIXED' ? 'TICKET' : form.appliesTo,
          scope: { performanceId: performance.id },
          quantity: form.quantity,
          perUserLimit: form.perUserLimit,
          claimOpensAt: fromLocalInput(form.claimOpensAt),
          ...(form.claimClosesAt ? { claimClosesAt: fromLocalInput(form.claimClosesAt) } : {}),
          validUntil: fromLocalInput(form.validUntil),
        },
      }),
    );
    setCreated(c.quantity);
    onCreated();
  });
  const num = (k: 'percent' | 'amount' | 'quantity' | 'perUserLimit') => (e: { currentTarget: HTMLInputElement }) =>
    setForm({ ...form, [k]: e.currentTarget.valueAsNumber || 0 });
  return (
    <form
      class="card form"
      aria-labelledby="new-campaign"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h2 id="new-campaign">{t('campaign.new')}</h2>
      <Field label={t('campaign.name')}>
        <input name="campaignName" required maxLength={100} value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
      </Field>
      <div class="row-form">
        <Field label={t('campaign.kind')}>
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value as typeof form.kind })}>
            {(['PERCENT', 'FIXED', 'GRADE_FIXED'] as const).map((k) => (
              <option key={k} value={k}>
                {t(`campaign.kind.${k}`)}
              </option>
            ))}
          </select>
        </Field>
        {form.kind === 'PERCENT' ? (
          <>
            <Field label={t('campaign.percent')}>
              <input type="number" name="percent" min={1} max={100} value={form.percent} onInput={num('percent')} />
            </Field>
            <Field label={t('campaign.maxDiscount')}>
              <input
                type="number"
                name="maxDiscount"
                min={1}
                value={form.maxDiscount}
                onInput={(e) => setForm({ ...form, maxDiscount: e.currentTarget.value })}
              />
            </Field>
          </>
        ) : (
          <Field label={t('campaign.amount')}>
            <input type="number" name="amount" min={1} value={form.amount} onInput={num('amount')} />
          </Field>
        )}
        {form.kind === 'GRADE_FIXED' && (
          <Field label={t('seats.grade')}>
            <select name="grade" value={form.grade} onChange={(e) => setForm({ ...form, grade: e.currentTarget.value })}>
              {performance.grades.map((g) => (
                <option key={g.name}>{g.name}</option>
              ))}
            </select>
          </Field>
        )}
        {form.kind !== 'GRADE_FIXED' && (
          <Field label={t('campaign.appliesTo')}>
            <select name="appliesTo" value={form.appliesTo} onChange={(e) => setForm({ ...form, appliesTo: e.currentTarget.value as 'ORDER' | 'TICKET' })}>
              <option value="ORDER">{t('campaign.appliesTo.ORDER')}</option>
              <option value="TICKET">{t('campaign.appliesTo.TICKET')}</option>
            </select>
          </Field>
        )}
      </div>
      <div class="row-form">
        <Field label={t('campaign.quantity')}>
          <input type="number" name="quantity" min={1} value={form.quantity} onInput={num('quantity')} />
        </Field>
        <Field label={t('campaign.perUser')}>
          <input type="number" name="perUserLimit" min={1} max={100} value={form.perUserLimit} onInput={num('perUserLimit')} />
        </Field>
      </div>
      <div class="row-form">
        <Field label={t('campaign.claimOpensAt')}>
          <input
            type="datetime-local"
            name="claimOpensAt"
            required
            value={form.claimOpensAt}
            onInput={(e) => setForm({ ...form, claimOpensAt: e.currentTarget.value })}
          />
        </Field>
        <Field label={t('campaign.claimClosesAt')}>
          <input
            type="datetime-local"
            name="claimClosesAt"
            value={form.claimClosesAt}
            onInput={(e) => setForm({ ...form, claimClosesAt: e.currentTarget.value })}
          />
        </Field>
        <Field label={t('campaign.validUntil')}>
          <input
            type="datetime-local"
            name="validUntil"
            required
            value={form.validUntil}
            onInput={(e) => setForm({ ...form, validUntil: e.currentTarget.value })}
          />
        </Field>
      </div>
      <ProblemMessage error={create.error} />
      {created !== null && <Notice kind="success">{t('campaign.created', { n: created })}</Notice>}
      <button type="submit" class="primary" disabled={create.busy}>
        {t('common.create')}
      </button>
    </form>
  );
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export function SalesPage() {
  const { t, money, number, date } = useI18n();
  const [range, setRange] = useState({ from: isoDay(new Date(Date.now() - 30 * 86_400_000)), to: isoDay(new Date(Date.now() + 86_400_000)) });
  const [applied, setApplied] = useState(range);
  const sales = useAsync(
    () =>
      call(() => api.GET('/v1/seller/sales', { params: { query: { from: new Date(applied.from).toISOString(), to: new Date(applied.to).toISOString() } } })),
    [applied.from, applied.to],
  );
  return (
    <section>
      <PageTitle>{t('seller.sales')}</PageTitle>
      <form
        class="row-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(range);
        }}
      >
        <Field label={t('sales.from')}>
          <input type="date" value={range.from} onInput={(e) => setRange({ ...range, from: e.currentTarget.value })} />
        </Field>
        <Field label={t('sales.to')}>
          <input type="date" value={range.to} onInput={(e) => setRange({ ...range, to: e.currentTarget.value })} />
        </Field>
        <button type="submit">{t('sales.show')}</button>
      </form>
      <ProblemMessage error={sales.error} />
      {sales.data && (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('sales.performance')}</th>
                <th scope="col">{t('sales.showtime')}</th>
                <th scope="col" class="num">
                  {t('sales.sold')}
                </th>
                <th scope="col" class="num">
                  {t('sales.gross')}
                </th>
                <th scope="col" class="num">
                  {t('sales.refunded')}
                </th>
                <th scope="col" class="num">
                  {t('sales.discounts')}
                </th>
              </tr>
            </thead>
            <tbody>
              {sales.data.items.map((r) => (
                <tr key={r.scheduleId}>
                  <td>
                    <Link href={`/seller/performances/${r.performanceId}`}>{r.performanceTitle}</Link>
                  </td>
                  <td>
                    <ScheduleDate id={r.scheduleId} format={date} />
                  </td>
                  <td class="num">
                    {number(r.sold)}
                    {r.refundedTickets > 0 && <small> (−{number(r.refundedTickets)})</small>}
                  </td>
                  <td class="num">{money(r.gross)}</td>
                  <td class="num">{money(r.refunded)}</td>
                  <td class="num">{money(r.discountsSellerFunded)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {sales.data?.items.length === 0 && <p>{t('common.none')}</p>}
    </section>
  );
}

function ScheduleDate({ id, format }: { id: string; format: (iso: string) => string }) {
  const s = useAsync(() => call(() => api.GET('/v1/schedules/{id}', { params: { path: { id } } })), [id]);
  return <>{s.data ? format(s.data.startsAt) : '…'}</>;
}

export function SettlementsPage() {
  const { t, money, date } = useI18n();
  const list = useAsync(() => call(() => api.GET('/v1/seller/settlements', { params: { query: { limit: 50 } } })), []);
  return (
    <section>
      <PageTitle>{t('seller.settlements')}</PageTitle>
      <ProblemMessage error={list.error} />
      {list.data?.items.length === 0 && <p>{t('settle.none')}</p>}
      <ul class="cards">
        {list.data?.items.map((s) => (
          <li key={s.id} class="card">
            <Link href={`/seller/settlements/${s.id}`}>
              {date(s.periodStart)} – {date(s.periodEnd)}
            </Link>{' '}
            <span class={`badge ${s.status === 'PAID' ? 'ok' : ''}`}>{t(`settle.status.${s.status}`)}</span>
            <p>
              {t('settle.net')}: <strong>{money(s.net)}</strong> · {t('sales.gross')} {money(s.gross)} · {t('settle.lines')} {s.lineCount}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function SettlementPage({ id }: { id: string }) {
  const { t, money, date } = useI18n();
  const s = useAsync(() => call(() => api.GET('/v1/seller/settlements/{id}', { params: { path: { id }, query: { limit: 1000 } } })), [id]);
  const download = useAction(async () => {
    const res = await authorizedFetch(`/v1/seller/settlements/${id}/csv`);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `settlement-${id}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  if (s.error) return <ProblemMessage error={s.error} />;
  if (!s.data) return <Loading />;
  const d = s.data;
  return (
    <section>
      <PageTitle>
        {t('settle.period')}: {date(d.periodStart)} – {date(d.periodEnd)}
      </PageTitle>
      <dl class="totals card">
        <dt>{t('sales.gross')}</dt>
        <dd>{money(d.gross)}</dd>
        <dt>{t('sales.discounts')}</dt>
        <dd>−{money(d.sellerDiscounts)}</dd>
        <dt>{t('settle.platformFee')}</dt>
        <dd>−{money(d.platformFee)}</dd>
        <dt>{t('settle.pgFee')}</dt>
        <dd>−{money(d.pgFee)}</dd>
        <dt>{t('settle.refunds')}</dt>
        <dd>−{money(d.refunds)}</dd>
        <dt>{t('settle.carried')}</dt>
        <dd>
          {money(d.carriedIn)} / {money(d.carriedOut)}
        </dd>
        <dt>{t('settle.net')}</dt>
        <dd class="amount">{money(d.net)}</dd>
      </dl>
      <ProblemMessage error={download.error} />
      <button type="button" class="primary" onClick={() => download.run()} disabled={download.busy}>
        {t('settle.csv')}
      </button>
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('sales.performance')}</th>
              <th scope="col" class="num">
                {t('common.seats', { n: '' }).trim()}
              </th>
              <th scope="col" class="num">
                {t('sales.gross')}
              </th>
              <th scope="col" class="num">
                {t('settle.fees')}
              </th>
              <th scope="col" class="num">
                {t('settle.net')}
              </th>
            </tr>
          </thead>
          <tbody>
            {d.lines.map((l) => (
              <tr key={l.orderId}>
                <td>{l.performanceTitle}</td>
                <td class="num">{l.seats}</td>
                <td class="num">{money(l.gross)}</td>
                <td class="num">{money(l.platformFee + l.pgFee)}</td>
                <td class="num">{money(l.net)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
