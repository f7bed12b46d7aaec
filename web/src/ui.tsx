import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { session } from './api/client.ts';
import { useI18n } from './i18n.ts';
import { describeProblem } from './problems.ts';
import { navigate } from './router.ts';
import { useStore } from './store.ts';

/** An in-app link: history navigation, and a real href for new tabs and screen readers. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { href, onClick, ...rest } = props;
  return (
    <a
      href={href}
      {...rest}
      onClick={(e) => {
        onClick?.(e as never);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}

/** A refusal of the API as a sentence (with field reasons), announced to screen readers. */
export function ProblemMessage({ error }: { error: unknown }) {
  const { t, lang } = useI18n();
  if (!error) return null;
  const p = describeProblem(error, lang);
  return (
    <div class="problem" role="alert">
      <strong>{t('problem.title')}</strong>
      <p>{p.message}</p>
      {p.details.length > 0 && (
        <ul>
          {p.details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      {p.requestId && <small>{t('problem.requestId', { id: p.requestId })}</small>}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: ComponentChildren; kind?: 'info' | 'success' | 'warning' }) {
  return (
    <div class={`notice ${kind}`} role="status">
      {children}
    </div>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads data for a page; reloads when `deps` change. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((n) => n + 1), []) };
}

/** Runs an action from a button or form: busy while it runs, its refusal kept to show. */
export function useAction<A extends unknown[]>(run: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const go = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await run(...args);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run: go };
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p class="loading" aria-busy="true">
      {t('common.loading')}
    </p>
  );
}

/** Re-renders every `ms`; answers Date.now(). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is `children` (an input, select or textarea), which the rule cannot see
    <label class="field">
      <span>{props.label}</span>
      {props.children}
      {props.hint && <small>{props.hint}</small>}
    </label>
  );
}

/** Sends signed-out visitors to the sign-in page and back here afterwards. */
export function RequireLogin({ children, need }: { children: ComponentChildren; need?: 'SELLER' }) {
  const s = useStore(session);
  const { t } = useI18n();
  useEffect(() => {
    if (!s) navigate(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`, { replace: true });
  }, [s]);
  if (!s) return null;
  if (need === 'SELLER' && s.user.role !== 'SELLER' && s.user.role !== 'ADMIN') return <Notice kind="warning">{t('seller.onlySellers')}</Notice>;
  return <>{children}</>;
}

/** Moves focus to a page's heading when it opens, so screen readers and keyboards start there. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
    document.title = `${ref.current?.textContent ?? ''} · MOS`;
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** The `datetime-local` value of a moment (local time), and back to an ISO instant. */
export const toLocalInput = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
export const fromLocalInput = (v: string) => new Date(v).toISOString();
