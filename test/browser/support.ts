/**
 * What the browser tests stand on: a real `mos start` (embedded mode, nothing kept, a free
 * port) serving the built web app, Debian's Chromium driven by playwright-core (Playwright's
 * own browser download does not work everywhere this runs), and a small HTTP client for the
 * other actors of a scene — the seller who set up a sale, the buyer who takes a seat first.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { exited, freePort, type MosProcess, startMos } from '../support/processes.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Local runs without Chromium may skip the browser tests; CI installs it (.ci/run) and never sets this. */
export const skipBrowser = process.env.MOS_SKIP_BROWSER_TESTS === '1';
export const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

export interface Mos {
  base: string;
  proc: MosProcess;
  stop(): Promise<void>;
}

/** `mos start` as `npm start` runs it (the prestart build is the global setup's), on a free port. */
export async function startBox(env: Record<string, string> = {}): Promise<Mos> {
  const port = await freePort();
  const proc = startMos(['start'], { DATA_DIR: 'memory://', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!proc.output().includes('MOS is running')) {
    if (proc.child.exitCode !== null) throw new Error(`mos start exited:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`mos start did not come up:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    proc,
    stop: async () => {
      proc.child.kill('SIGTERM');
      await exited(proc.child);
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH; MOS_SKIP_BROWSER_TESTS=1 skips these tests locally)`);
  }
  // playwright-core gives each launch a fresh, empty profile (--user-data-dir) of its own.
  // Without the networking flags Chromium reaches for Google's services at start and stalls on a closed network.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage });
}

/** A JSON call to the API as another actor of the scene; throws on a refusal, with the problem. */
export function apiClient(base: string) {
  return async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

let counter = 0;
export const uniqueEmail = (who: string) => `${who}-${Date.now().toString(36)}-${counter++}@box.test`;

export interface Actor {
  email: string;
  password: string;
  auth: { authorization: string };
}

export async function signUp(base: string, role: 'BUYER' | 'SELLER', name = role === 'SELLER' ? 'Stage Co.' : 'Buyer'): Promise<Actor> {
  const call = apiClient(base);
  const email = uniqueEmail(role.toLowerCase());
  const password = 'correct horse battery';
  await call('POST', '/v1/auth/signup', { email, password, name, role });
  const { accessToken } = await call('POST', '/v1/auth/login', { email, password });
  return { email, password, auth: { authorization: `Bearer ${accessToken}` } };
}

/** A seller's showtime on sale now: a venue of `sections` × 10 rows × 20 seats, grades R and S, a waiting room if asked. */
export async function givenSale(
  base: string,
  opts: { title: string; waitingRoom?: { maxActive: number; admitPerTick: number }; couponAmount?: number },
): Promise<{ seller: Actor; scheduleId: string; performanceId: string; campaignId?: string }> {
  const call = apiClient(base);
  const seller = await signUp(base, 'SELLER');
  const rows = Array.from({ length: 10 }, (_, i) => ({ label: String(i + 1), seats: 20 }));
  const venue = await call('POST', '/v1/venues', { name: `${opts.title} Hall`, sections: ['A', 'B', 'C'].map((name) => ({ name, rows })) }, seller.auth);
  const performance = await call(
    'POST',
    '/v1/performances',
    {
      title: opts.title,
      venueId: venue.id,
      runningMinutes: 100,
      grades: [
        { name: 'R', price: 120_000 },
        { name: 'S', price: 80_000 },
      ],
      seatGrades: [{ grade: 'R', section: 'A' }],
      defaultGrade: 'S',
    },
    seller.auth,
  );
  const now = Date.now();
  const schedule = await call(
    'POST',
    `/v1/performances/${performance.id}/schedules`,
    {
      startsAt: new Date(now + 7 * 86_400_000).toISOString(),
      saleOpensAt: new Date(now - 60_000).toISOString(),
      ...(opts.waitingRoom ? { waitingRoom: { enabled: true, ...opts.waitingRoom } } : {}),
    },
    seller.auth,
  );
  let campaignId: string | undefined;
  if (opts.couponAmount) {
    const campaign = await call(
      'POST',
      '/v1/coupons',
      {
        name: `${opts.title} ${opts.couponAmount} off`,
        kind: 'FIXED',
        params: { amount: opts.couponAmount },
        appliesTo: 'ORDER',
        scope: { performanceId: performance.id },
        quantity: 100,
        claimOpensAt: new Date(now - 60_000).toISOString(),
        validUntil: new Date(now + 30 * 86_400_000).toISOString(),
      },
      seller.auth,
    );
    campaignId = campaign.id;
  }
  return { seller, scheduleId: schedule.id, performanceId: performance.id, ...(campaignId ? { campaignId } : {}) };
}

/** Enters a buyer into a showtime's queue and waits for the admission token. */
export async function admitted(base: string, buyer: Actor, scheduleId: string): Promise<string> {
  const call = apiClient(base);
  let status = await call('POST', `/v1/schedules/${scheduleId}/queue`, undefined, buyer.auth);
  const deadline = Date.now() + 20_000;
  while (status.status !== 'ADMITTED') {
    if (Date.now() > deadline) throw new Error(`not admitted: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 200));
    status = await call('GET', `/v1/schedules/${scheduleId}/queue`, undefined, buyer.auth);
  }
  return status.admissionToken;
}

/** Waits until `check` answers true (polling), or fails with `what`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
