import { createStore, useStore } from './store.ts';

/** History routing: the server answers index.html for every app path (src/platform/http/web-app.ts). */
export const location = createStore({ path: window.location.pathname, search: window.location.search });

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  location.set({ path: window.location.pathname, search: window.location.search });
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => location.set({ path: window.location.pathname, search: window.location.search }));

export function useLocation() {
  return useStore(location);
}

export function query(search: string, name: string): string | null {
  return new URLSearchParams(search).get(name);
}

/** Matches `/performances/:id` against a path; the parameters, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(s[i]!);
    else if (part !== s[i]) return null;
  }
  return params;
}
