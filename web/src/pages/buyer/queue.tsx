import { useEffect, useState } from 'preact/hooks';
import { api, authorizedFetch, call } from '../../api/client.ts';
import type { QueueStatus } from '../../api/types.ts';
import { keepAdmission } from '../../admission.ts';
import { useI18n } from '../../i18n.ts';
import { navigate } from '../../router.ts';
import { readEventStream } from '../../sse.ts';
import { PageTitle, ProblemMessage } from '../../ui.tsx';

/** Until the server paces the polls (its X-Poll-After header, seconds). */
const POLL_MS = 2000;

/**
 * The waiting room: enters the queue, then follows the position live over the queue's event
 * stream; if the stream cannot be opened or breaks, polls instead (each poll is also the
 * buyer's heartbeat). On admission it keeps the token for this tab and opens the seat map.
 */
export function QueuePage({ scheduleId }: { scheduleId: string }) {
  const { t, number, duration } = useI18n();
  const [status, setStatus] = useState<QueueStatus | null>(null);
  const [mode, setMode] = useState<'stream' | 'poll'>('stream');
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seen = (s: QueueStatus) => {
      setStatus(s);
      setError(undefined);
      if (s.status === 'ADMITTED' && s.admissionToken) {
        keepAdmission(scheduleId, s.admissionToken);
        abort.abort();
        setTimeout(() => navigate(`/schedules/${scheduleId}/seats`, { replace: true }), 600);
        return true;
      }
      return false;
    };
    // The server says when to ask again: soon near the front, rarely far back (X-Poll-After).
    let pollMs = POLL_MS;
    const paced = <T,>(res: { response: Response } & T): T & { response: Response } => {
      const after = Number(res.response.headers.get('x-poll-after'));
      if (after > 0) pollMs = after * 1000;
      return res;
    };
    const poll = async () => {
      if (abort.signal.aborted) return;
      try {
        if (seen(await call(async () => paced(await api.GET('/v1/schedules/{id}/queue', { params: { path: { id: scheduleId } } }))))) return;
      } catch (err) {
        setError(err);
      }
      timer = setTimeout(poll, pollMs);
    };
    const follow = async () => {
      try {
        const entered = await call(async () => paced(await api.POST('/v1/schedules/{id}/queue', { params: { path: { id: scheduleId } } })));
        if (seen(entered)) return;
        const res = await authorizedFetch(`/v1/schedules/${scheduleId}/queue/stream`, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
        setMode('stream');
        await readEventStream(res, (event, data) => event === 'position' && seen(JSON.parse(data) as QueueStatus), abort.signal);
      } catch (err) {
        if (abort.signal.aborted) return;
        setError(err);
      }
      if (abort.signal.aborted) return;
      setMode('poll');
      void poll();
    };
    void follow();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [scheduleId]);

  const leave = async () => {
    await call(() => api.DELETE('/v1/schedules/{id}/queue', { params: { path: { id: scheduleId } } })).catch(() => undefined);
    keepAdmission(scheduleId, undefined);
    history.back();
  };

  return (
    <section class="narrow queue">
      <PageTitle>{t('queue.title')}</PageTitle>
      <ProblemMessage error={error} />
      {status && status.status === 'WAITING' && (
        <div class="card center" aria-live="polite">
          <p class="muted">{t('queue.position')}</p>
          <p class="big" data-testid="queue-position">
            {status.position === null ? '—' : number(status.position)}
          </p>
          {status.position === null ? (
            <p>{t('queue.beforeOpen')}</p>
          ) : (
            <>
              <p>{t('queue.ahead', { n: number(status.ahead) })}</p>
              <p>
                {t('queue.eta')}: <strong>{status.estimatedWaitSeconds === null ? t('queue.etaUnknown') : duration(status.estimatedWaitSeconds)}</strong>
              </p>
            </>
          )}
          <p class="muted small">
            <span class={`dot ${mode}`} /> {mode === 'stream' ? t('queue.live') : t('queue.polling')} · {t('queue.keepOpen')}
          </p>
        </div>
      )}
      {status?.status === 'ADMITTED' && (
        <div class="notice success" role="status">
          {t('queue.admitted')}
        </div>
      )}
      <button type="button" onClick={leave}>
        {t('queue.leave')}
      </button>
    </section>
  );
}
