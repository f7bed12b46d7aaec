/**
 * The typed API client: openapi-fetch over the types that `npm run web:api` generates from the
 * committed openapi.json (schema.d.ts — never edited by hand). A failed call throws ApiError
 * with the server's problem+json, which the pages turn into a message (problems.ts).
 */
import createClient from 'openapi-fetch';
import { createStore } from '../store.ts';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

export interface Problem {
  type?: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  requestId?: string;
  errors?: { path: string; message: string }[];
  [member: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
  get code() {
    return this.problem.code;
  }
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string; name: string; role: 'BUYER' | 'SELLER' | 'ADMIN' };
}

const SESSION_KEY = 'mos.session';
const saved = localStorage.getItem(SESSION_KEY);
export const session = createStore<Session | null>(saved ? (JSON.parse(saved) as Session) : null);
session.subscribe((s) => (s ? localStorage.setItem(SESSION_KEY, JSON.stringify(s)) : localStorage.removeItem(SESSION_KEY)));

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use({
  onRequest({ request }) {
    const s = session.get();
    if (s && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${s.accessToken}`);
    return request;
  },
});

type Result<T> = { data?: T; error?: unknown; response: Response };

/** A problem for a failure that is not the API's own answer (the network, a proxy's HTML page). */
function problemOf(error: unknown, response: Response | undefined): Problem {
  if (error && typeof error === 'object' && 'code' in error && 'status' in error) return error as Problem;
  return { title: response ? response.statusText : 'Network error', status: response?.status ?? 0, code: response ? `HTTP_${response.status}` : 'NETWORK' };
}

let refreshing: Promise<boolean> | null = null;

/** Spends the refresh token for a new pair; false (and signed out) when it is no longer good. */
function refresh(): Promise<boolean> {
  const s = session.get();
  if (!s) return Promise.resolve(false);
  refreshing ??= (async () => {
    try {
      const { data } = await api.POST('/v1/auth/refresh', { body: { refreshToken: s.refreshToken } });
      if (!data) {
        session.set(null);
        return false;
      }
      session.set({ ...s, accessToken: data.accessToken, refreshToken: data.refreshToken });
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/**
 * Runs an openapi-fetch call and answers its data, or throws ApiError. An expired access token
 * is refreshed once and the call made again.
 */
export async function call<T>(run: () => Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await run();
    if (result.response.status === 401 && session.get() && (await refresh())) result = await run();
  } catch (err) {
    throw new ApiError({ title: String(err), status: 0, code: 'NETWORK' });
  }
  if (!result.response.ok) throw new ApiError(problemOf(result.error, result.response));
  return result.data as T;
}

export async function login(email: string, password: string): Promise<Session> {
  const tokens = await call(() => api.POST('/v1/auth/login', { body: { email, password } }));
  const user = await call(() => api.GET('/v1/me', { headers: { authorization: `Bearer ${tokens.accessToken}` } }));
  const s: Session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, user: user as Session['user'] };
  session.set(s);
  return s;
}

export async function logout(): Promise<void> {
  const s = session.get();
  session.set(null);
  if (s) await api.POST('/v1/auth/logout', { body: { refreshToken: s.refreshToken } }).catch(() => undefined);
}

/** An authenticated fetch outside the typed client (event streams, CSV downloads). */
export async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const go = () => {
    const headers = new Headers(init.headers);
    const s = session.get();
    if (s) headers.set('authorization', `Bearer ${s.accessToken}`);
    return fetch(url, { ...init, headers });
  };
  let res = await go();
  if (res.status === 401 && session.get() && (await refresh())) res = await go();
  if (!res.ok) {
    const body = await res.json().catch(() => undefined);
    throw new ApiError(problemOf(body, res));
  }
  return res;
}
