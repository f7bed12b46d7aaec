import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AvailabilityState, type AvailabilityMessage } from '../../../../src/modules/catalog/availability-codec.ts';
import { ApiError, api, call } from '../../api/client.ts';
import type { Layout } from '../../api/types.ts';
import { admissionHeaders, admissionToken, keepAdmission } from '../../admission.ts';
import { useI18n } from '../../i18n.ts';
import { navigate } from '../../router.ts';
import { SeatGeometry } from '../../seatmap/geometry.ts';
import { GRADE_COLORS, HELD_COLOR, MINE_COLOR, SeatMap, SELECTED_COLOR, SOLD_COLOR } from '../../seatmap/SeatMap.tsx';
import { Loading, PageTitle, ProblemMessage, useNow } from '../../ui.tsx';

/** The per-buyer limit of the committed OpenAPI document (the default); a HOLD_LIMIT_EXCEEDED answer corrects it. */
const DEFAULT_LIMIT = __MOS_MAX_SEATS_PER_BUYER__;
const POLL_MS = 2000;
const ADMISSION_REFRESH_MS = 45_000;

/**
 * Follows a showtime's availability: the stream (EventSource resumes with Last-Event-ID by
 * itself), else polling `?since=`. Statuses live in one AvailabilityState (the codec shared
 * with the server); `version` bumps on every applied change so the map redraws.
 */
function useAvailability(scheduleId: string, seats: number | undefined) {
  const state = useRef<AvailabilityState | null>(null);
  const seatCount = useRef<number | undefined>(undefined);
  const pending = useRef<AvailabilityMessage[]>([]);
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState<'stream' | 'poll'>('stream');
  const refetch = useRef<() => void>(() => undefined);
  // The stream opens with the page, alongside the layout request; its messages wait for the layout's seat count.
  useEffect(() => {
    let closed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const apply = (m: AvailabilityMessage) => {
      const seats = seatCount.current;
      if (seats === undefined) {
        pending.current.push(m);
        return true;
      }
      if (!state.current) {
        if (!m.full) return false;
        state.current = new AvailabilityState(seats, m);
      } else if (!state.current.apply(m)) return false;
      setVersion((v) => v + 1);
      return true;
    };
    const fetchState = async (since?: number) => {
      const m = (await call(() =>
        api.GET('/v1/schedules/{id}/availability', { params: { path: { id: scheduleId }, query: since === undefined ? {} : { since } } }),
      )) as AvailabilityMessage;
      if (!apply(m)) {
        state.current = null;
        apply((await call(() => api.GET('/v1/schedules/{id}/availability', { params: { path: { id: scheduleId } } }))) as AvailabilityMessage);
      }
    };
    refetch.current = () => void fetchState().catch(() => undefined);
    const poll = async () => {
      if (closed) return;
      await fetchState(state.current?.version).catch(() => undefined);
      timer = setTimeout(poll, POLL_MS);
    };
    const source = new EventSource(`/v1/schedules/${scheduleId}/availability/stream`);
    source.addEventListener('availability', (e) => {
      if (!apply(JSON.parse((e as MessageEvent<string>).data) as AvailabilityMessage)) void fetchState();
    });
    source.onerror = () => {
      // EventSource retries by itself; once it gives up (CLOSED), poll instead.
      if (source.readyState === EventSource.CLOSED && !closed) {
        setLive('poll');
        void poll();
      }
    };
    return () => {
      closed = true;
      source.close();
      clearTimeout(timer);
    };
  }, [scheduleId]);
  useEffect(() => {
    if (seats === undefined || seatCount.current !== undefined) return;
    seatCount.current = seats;
    const queued = pending.current;
    pending.current = [];
    let ok = true;
    for (const m of queued) {
      if (!state.current && !m.full) continue;
      if (!state.current) state.current = new AvailabilityState(seats, m);
      else ok = state.current.apply(m) && ok;
    }
    if (!ok || !state.current) refetch.current();
    setVersion((v) => v + 1);
  }, [seats]);
  return { state: state.current, version, live };
}

export function SeatsPage({ scheduleId }: { scheduleId: string }) {
  const { t, money, number, clock } = useI18n();
  const [layout, setLayout] = useState<Layout | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [waitingRoom, setWaitingRoom] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [mine, setMine] = useState<{ seats: ReadonlySet<number>; expiresAt: string | null }>({ seats: new Set(), expiresAt: null });
  const [limit, setLimit] = useState(DEFAULT_LIMIT);
  const [busy, setBusy] = useState(false);
  const [lost, setLost] = useState<string[]>([]);
  const now = useNow(1000);

  const geometry = useMemo(
    () =>
      layout
        ? new SeatGeometry(
            layout.seats,
            layout.grades.map((g) => g.name),
          )
        : null,
    [layout],
  );
  const indexOf = useMemo(() => new Map(layout?.seats.map((s) => [s.seatId, s.index]) ?? []), [layout]);
  const { state, version, live } = useAvailability(scheduleId, layout?.seats.length);

  useEffect(() => {
    (async () => {
      const [showtime, l, holds] = await Promise.all([
        call(() => api.GET('/v1/schedules/{id}', { params: { path: { id: scheduleId } } })),
        call(() => api.GET('/v1/schedules/{id}/layout', { params: { path: { id: scheduleId } } })),
        call(() => api.GET('/v1/schedules/{id}/holds', { params: { path: { id: scheduleId } } })),
      ]);
      if (showtime.waitingRoom.enabled && !admissionToken(scheduleId)) {
        navigate(`/schedules/${scheduleId}/queue`, { replace: true });
        return;
      }
      setWaitingRoom(showtime.waitingRoom.enabled);
      const byId = new Map(l.seats.map((s) => [s.seatId, s.index]));
      setMine({ seats: new Set(holds.seatIds.map((id) => byId.get(id)!).filter((i) => i !== undefined)), expiresAt: holds.expiresAt });
      setLayout(l);
    })().catch(setError);
  }, [scheduleId]);

  // Admitted buyers poll their queue status: it keeps the admission alive and hands out a fresh token.
  useEffect(() => {
    if (!waitingRoom) return;
    const id = setInterval(async () => {
      try {
        const s = await call(() => api.GET('/v1/schedules/{id}/queue', { params: { path: { id: scheduleId } } }));
        if (s.admissionToken) keepAdmission(scheduleId, s.admissionToken);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'NOT_IN_QUEUE') keepAdmission(scheduleId, undefined);
      }
    }, ADMISSION_REFRESH_MS);
    return () => clearInterval(id);
  }, [waitingRoom, scheduleId]);

  // A selected seat someone else took meanwhile leaves the selection, with a word why.
  useEffect(() => {
    if (!state || !layout) return;
    const gone = [...selected].filter((i) => state.codes[i] !== 0);
    if (gone.length) {
      setSelected(new Set([...selected].filter((i) => state.codes[i] === 0)));
      setLost(gone.map((i) => layout.seats[i]!.label));
    }
  }, [version]);

  const counts = useMemo(() => {
    const c = [0, 0, 0, 0];
    if (state) for (let i = 0; i < state.codes.length; i++) c[state.codes[i]!]!++;
    return c;
  }, [version, state]);

  if (error) return <ProblemMessage error={error} />;
  if (!layout || !geometry || !state) return <Loading />;

  const holdExpires = mine.expiresAt ? Date.parse(mine.expiresAt) - now : 0;
  const holdLive = mine.seats.size > 0 && holdExpires > 0;
  const room = Math.max(0, limit - mine.seats.size);

  const toggle = (i: number) => {
    setLost([]);
    if (selected.has(i)) {
      const next = new Set(selected);
      next.delete(i);
      setSelected(next);
    } else if (state.codes[i] === 0 && !mine.seats.has(i) && selected.size < room) {
      setSelected(new Set([...selected, i]));
    }
  };

  const hold = async () => {
    setBusy(true);
    setError(undefined);
    setLost([]);
    const seatIds = [...selected].map((i) => layout.seats[i]!.seatId);
    try {
      const h = await call(() =>
        api.POST('/v1/schedules/{id}/holds', { params: { path: { id: scheduleId }, header: admissionHeaders(scheduleId) }, body: { seatIds } }),
      );
      setMine({ seats: new Set([...mine.seats, ...h.seatIds.map((id) => indexOf.get(id)!)]), expiresAt: h.expiresAt });
      setSelected(new Set());
    } catch (err) {
      if (err instanceof ApiError && err.code === 'SEAT_UNAVAILABLE') {
        // Lost to another buyer: drop those seats, show them taken until the stream says more.
        const taken = ((err.problem.unavailableSeatIds as string[] | undefined) ?? []).map((id) => indexOf.get(id)!).filter((i) => i !== undefined);
        for (const i of taken) if (state.codes[i] === 0) state.codes[i] = 1;
        setSelected(new Set([...selected].filter((i) => !taken.includes(i))));
        setLost(taken.map((i) => layout.seats[i]!.label));
      } else {
        if (err instanceof ApiError && err.code === 'HOLD_LIMIT_EXCEEDED' && typeof err.problem.maxSeatsPerBuyer === 'number') {
          setLimit(err.problem.maxSeatsPerBuyer);
        }
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const release = async (i: number) => {
    try {
      await call(() => api.DELETE('/v1/schedules/{id}/holds/{seatId}', { params: { path: { id: scheduleId, seatId: layout.seats[i]!.seatId } } }));
      const next = new Set(mine.seats);
      next.delete(i);
      setMine({ ...mine, seats: next });
    } catch (err) {
      setError(err);
    }
  };

  const seatLine = (i: number, action: ComponentChildren) => {
    const s = layout.seats[i]!;
    return (
      <li key={i}>
        <span>
          <strong>{s.label}</strong> · {s.grade} · {money(s.price)}
        </span>
        {action}
      </li>
    );
  };

  return (
    <section class="seats-page">
      <PageTitle>{t('seats.title')}</PageTitle>
      <div class="seats-layout">
        <div class="seats-main">
          <ul class="legend" aria-label={t('seats.legend')}>
            {layout.grades.map((g, k) => (
              <li key={g.name}>
                <i style={{ background: GRADE_COLORS[k % GRADE_COLORS.length] }} /> {g.name} {money(g.price)}
              </li>
            ))}
            <li>
              <i style={{ background: HELD_COLOR }} /> {t('seats.held')}
            </li>
            <li>
              <i style={{ background: SOLD_COLOR }} /> {t('seats.sold')}
            </li>
            <li>
              <i style={{ background: SELECTED_COLOR }} /> {t('seats.selected')}
            </li>
            <li>
              <i style={{ background: MINE_COLOR }} /> {t('seats.yours')}
            </li>
          </ul>
          <SeatMap geometry={geometry} layout={layout} codes={state.codes} version={version} selected={selected} mine={mine.seats} onToggle={toggle} />
          <p class="muted small">
            <span class={`dot ${live}`} />{' '}
            <span data-testid="live-counts" data-available={counts[0]} data-held={counts[1]} data-sold={counts[2]}>
              {t('seats.liveCounts', { available: number(counts[0]!), held: number(counts[1]!), sold: number(counts[2]!) })}
            </span>{' '}
            · {t('seats.help')}
          </p>
        </div>
        <aside class="card seats-side" aria-label={t('seats.selected')}>
          {lost.length > 0 && (
            <div class="problem" role="alert" data-testid="seats-lost">
              {t('seats.lost', { labels: lost.join(', ') })}
            </div>
          )}
          <ProblemMessage error={error} />
          {mine.seats.size > 0 && (
            <>
              <h2>{t('seats.yours')}</h2>
              <ul class="seat-list" data-testid="my-holds">
                {[...mine.seats].map((i) =>
                  seatLine(
                    i,
                    <button type="button" class="link" onClick={() => release(i)}>
                      {t('seats.release')}
                    </button>,
                  ),
                )}
              </ul>
              {holdLive ? (
                <p class="countdown" role="timer" data-testid="hold-countdown">
                  {t('seats.expiresIn', { time: clock(holdExpires) })}
                </p>
              ) : (
                <p class="problem">{t('seats.expired')}</p>
              )}
              {holdLive && (
                <button type="button" class="primary wide" onClick={() => navigate(`/checkout/${scheduleId}`)}>
                  {t('seats.checkout')}
                </button>
              )}
            </>
          )}
          <h2>{t('seats.selected')}</h2>
          <p class="muted small">{t('seats.limit', { n: limit })}</p>
          {selected.size === 0 ? (
            <p>{t('seats.pick')}</p>
          ) : (
            <ul class="seat-list" data-testid="selection">
              {[...selected].map((i) =>
                seatLine(
                  i,
                  <button type="button" class="link" onClick={() => toggle(i)}>
                    {t('common.remove')}
                  </button>,
                ),
              )}
            </ul>
          )}
          <button type="button" class="primary wide" disabled={selected.size === 0 || busy} onClick={hold}>
            {busy ? t('seats.holding') : selected.size === 1 ? t('seats.holdOne') : t('seats.hold', { n: selected.size })}
          </button>
        </aside>
      </div>
    </section>
  );
}
