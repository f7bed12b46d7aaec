import { useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import type { Showtime } from '../../api/types.ts';
import { useI18n } from '../../i18n.ts';
import { navigate } from '../../router.ts';
import { GRADE_COLORS } from '../../seatmap/SeatMap.tsx';
import { Link, Loading, PageTitle, ProblemMessage, useAsync, useNow } from '../../ui.tsx';

export function HomePage() {
  const { t, date, money } = useI18n();
  const [q, setQ] = useState('');
  const [term, setTerm] = useState('');
  const list = useAsync(() => call(() => api.GET('/v1/performances', { params: { query: { limit: 50, ...(term ? { q: term } : {}) } } })), [term]);
  return (
    <section>
      <PageTitle>{t('home.title')}</PageTitle>
      <form
        class="search"
        aria-label={t('home.search')}
        onSubmit={(e) => {
          e.preventDefault();
          setTerm(q.trim());
        }}
      >
        <input type="search" aria-label={t('home.search')} placeholder={t('home.search')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <button type="submit">{t('home.go')}</button>
      </form>
      <ProblemMessage error={list.error} />
      {list.loading && <Loading />}
      <ul class="cards">
        {list.data?.items.map((p) => (
          <li key={p.id} class="card performance">
            <h2>
              <Link href={`/performances/${p.id}`}>{p.title}</Link>
            </h2>
            <p class="muted">
              {t('home.next')}: {p.nextScheduleAt ? date(p.nextScheduleAt) : t('home.noShows')}
            </p>
            <p class="grades">
              {p.grades.map((g, i) => (
                <span key={g.name} class="grade-chip">
                  <i style={{ background: GRADE_COLORS[i % GRADE_COLORS.length] }} /> {g.name} {money(g.price)}
                </span>
              ))}
            </p>
          </li>
        ))}
      </ul>
      {list.data && list.data.items.length === 0 && <p>{t('common.none')}</p>}
    </section>
  );
}

export function saleState(s: Pick<Showtime, 'saleOpensAt' | 'saleClosesAt'>, now: number): 'open' | 'upcoming' | 'closed' {
  if (now < Date.parse(s.saleOpensAt)) return 'upcoming';
  if (now >= Date.parse(s.saleClosesAt)) return 'closed';
  return 'open';
}

export function PerformancePage({ id }: { id: string }) {
  const { t, date, money } = useI18n();
  const now = useNow(5000);
  const perf = useAsync(() => call(() => api.GET('/v1/performances/{id}', { params: { path: { id } } })), [id]);
  if (perf.error) return <ProblemMessage error={perf.error} />;
  if (!perf.data) return <Loading />;
  const p = perf.data;
  return (
    <section>
      <PageTitle>{p.title}</PageTitle>
      {p.description && <p>{p.description}</p>}
      <p class="muted">{t('perf.minutes', { n: p.runningMinutes })}</p>
      <h2>{t('perf.grades')}</h2>
      <ul class="legend">
        {p.grades.map((g, i) => (
          <li key={g.name}>
            <i style={{ background: GRADE_COLORS[i % GRADE_COLORS.length] }} /> {g.name} · {money(g.price)}
          </li>
        ))}
      </ul>
      <h2>{t('perf.showtimes')}</h2>
      <ul class="showtimes">
        {p.schedules.map((s) => {
          const state = saleState(s, now);
          const target = s.waitingRoom.enabled ? `/schedules/${s.id}/queue` : `/schedules/${s.id}/seats`;
          return (
            <li key={s.id} class="card showtime">
              <div>
                <strong>{date(s.startsAt)}</strong>
                <div class="muted">
                  {t('perf.saleOpens')} {date(s.saleOpensAt)} · {t('perf.saleCloses')} {date(s.saleClosesAt)}
                </div>
                {s.waitingRoom.enabled && <span class="badge">{t('perf.waitingRoom')}</span>}
              </div>
              {state === 'closed' ? (
                <span class="badge muted">{t('perf.saleClosed')}</span>
              ) : state === 'upcoming' && !s.waitingRoom.enabled ? (
                <span class="badge">{t('perf.saleNotOpen')}</span>
              ) : (
                <button type="button" class="primary" onClick={() => navigate(target)}>
                  {s.waitingRoom.enabled ? t('perf.queue') : t('perf.book')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
