/**
 * The `web` scenario: the seat map of a 50,000-seat showtime in the box office web app, in
 * Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) driven by playwright-core,
 * against an embedded MOS in this process serving the built web app (npm run web:build runs
 * first when the build is stale). A fifth of the seats are held by other buyers, so the map
 * draws four colours and the availability is not all zeros.
 *
 * Printed, not asserted: the first paint of the map (ms from navigation start to the first
 * frame with every seat drawn, `performance.mark('seatmap-first-paint')`), cold (empty cache)
 * and warm (the layout revalidated with its ETag), with the layout and availability requests'
 * sizes and times; and the time per frame while zooming and panning (wheel and drag events,
 * each drawn in the next animation frame; the draw timed in the page).
 */
import { pino } from 'pino';
import { buildWebIfStale } from '../scripts/web-build.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { launchChromium } from '../test/browser/support.js';
import { mintBuyer } from '../test/support/builders.js';
import { TEST_JWT_SECRET } from '../test/support/harness.js';
import { LARGE } from './catalog.js';
import { listen, printTable, round } from './lib.js';

/** The page's globals this file's browser-side functions use (Node's types have no DOM). */
interface PageGlobals {
  localStorage: { setItem(key: string, value: string): void };
  requestAnimationFrame(callback: () => void): number;
  performance: {
    getEntriesByName(name: string): { startTime: number }[];
    getEntriesByType(type: string): { name: string; duration: number; encodedBodySize: number }[];
  };
}

export interface WebResult {
  seats: number;
  held: number;
  cold: PaintFigures;
  warm: PaintFigures;
  zoomFrameMs: number;
  panFrameMs: number;
}

interface PaintFigures {
  firstPaintMs: number;
  layoutMs: number;
  layoutBytes: number;
  availabilityBytes: number;
}

export async function benchWeb(): Promise<WebResult> {
  await buildWebIfStale();
  const ctx = await createContext(
    // Buyers who hold seats are minted tokens (test/support/builders.ts), not signed up: 500 argon2 hashes would be the bench's time.
    loadConfig({
      DATA_DIR: 'memory://',
      LOG_LEVEL: 'silent',
      SEED_DEMO: 'false',
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_MAX: '1000000',
      MAX_SEATS_PER_BUYER: '20',
    }),
    { migrate: true, logger: pino({ level: 'silent' }) },
  );
  const app = await buildApp(ctx);
  const base = await listen(app);
  const browser = await launchChromium();
  try {
    const call = async <T = { id: string }>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> => {
      const res = await fetch(base + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
      return (res.status === 204 ? undefined : await res.json()) as T;
    };
    const account = async (role: 'BUYER' | 'SELLER', n: number) => {
      const email = `web-${role.toLowerCase()}-${n}-${Date.now()}@bench.test`;
      const user = await call('POST', '/v1/auth/signup', { email, password: 'bench-password', name: `${role} ${n}`, role });
      const tokens = await call<{ accessToken: string; refreshToken: string }>('POST', '/v1/auth/login', { email, password: 'bench-password' });
      return { user, tokens, auth: { authorization: `Bearer ${tokens.accessToken}` } };
    };
    const seller = await account('SELLER', 0);
    const venue = await call('POST', '/v1/venues', { name: 'Bench Stadium', sections: LARGE.sections }, seller.auth);
    const show = await call(
      'POST',
      '/v1/performances',
      {
        title: 'Bench Stadium Live',
        venueId: venue.id,
        runningMinutes: 120,
        grades: [
          { name: 'VIP', price: 198_000 },
          { name: 'R', price: 154_000 },
          { name: 'S', price: 121_000 },
        ],
        seatGrades: [
          { grade: 'VIP', section: 'A' },
          { grade: 'VIP', section: 'B' },
          { grade: 'R', section: 'C' },
          { grade: 'R', section: 'D' },
          { grade: 'R', section: 'E' },
        ],
        defaultGrade: 'S',
      },
      seller.auth,
    );
    const now = Date.now();
    const schedule = await call(
      'POST',
      `/v1/performances/${show.id}/schedules`,
      { startsAt: new Date(now + 30 * 86_400_000).toISOString(), saleOpensAt: new Date(now - 60_000).toISOString() },
      seller.auth,
    );
    // A fifth of the seats held, 20 at a time by 500 buyers, spread over the whole map.
    const layout = await call<{ seats: { seatId: string }[] }>('GET', `/v1/schedules/${schedule.id}/layout`);
    const seatIds = layout.seats.map((s) => s.seatId);
    let held = 0;
    for (let b = 0; b < 500; b++) {
      const buyer = await mintBuyer();
      const mine = Array.from({ length: 20 }, (_, k) => seatIds[(b * 20 + k) * 5]!).filter(Boolean);
      await call('POST', `/v1/schedules/${schedule.id}/holds`, { seatIds: mine }, buyer.auth);
      held += mine.length;
    }
    // The server's compressed layout is made on its first request; a buyer arrives after others did.
    await fetch(`${base}/v1/schedules/${schedule.id}/layout`, { headers: { 'accept-encoding': 'br' } }).then((r) => r.arrayBuffer());
    await fetch(`${base}/v1/schedules/${schedule.id}/layout`, { headers: { 'accept-encoding': 'gzip' } }).then((r) => r.arrayBuffer());
    const viewer = await account('BUYER', 0);
    const session = { accessToken: viewer.tokens.accessToken, refreshToken: viewer.tokens.refreshToken, user: viewer.user };

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addInitScript((s) => {
      const { localStorage } = globalThis as unknown as PageGlobals;
      localStorage.setItem('mos.session', s);
      localStorage.setItem('mos.lang', 'en');
    }, JSON.stringify(session));
    const page = await context.newPage();
    const url = `${base}/schedules/${schedule.id}/seats`;
    const paint = async (): Promise<PaintFigures> => {
      await page.goto(url);
      await page.locator('canvas[data-painted=true]').waitFor({ timeout: 60_000 });
      return page.evaluate(() => {
        const p = (globalThis as unknown as PageGlobals).performance;
        const mark = p.getEntriesByName('seatmap-first-paint')[0];
        const resources = p.getEntriesByType('resource');
        const layout = resources.find((r) => r.name.endsWith('/layout'))!;
        const availability = resources.find((r) => r.name.includes('/availability'));
        return {
          firstPaintMs: Math.round(mark!.startTime),
          layoutMs: Math.round(layout.duration),
          layoutBytes: layout.encodedBodySize,
          availabilityBytes: availability?.encodedBodySize ?? 0,
        };
      });
    };
    const cold = await paint();
    const warm = await paint();

    // Frames while zooming (wheel) and panning (drag): each event invalidates, the next frame draws.
    const box = (await page.locator('canvas.seatmap-canvas').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    // The draw time of the frame each step caused, as the page measured it (data-draw-ms).
    const canvas = page.locator('canvas.seatmap-canvas');
    const frames = async (steps: number, step: (i: number) => Promise<void>) => {
      let total = 0;
      for (let i = 0; i < steps; i++) {
        await step(i);
        await page.evaluate(() => new Promise((r) => (globalThis as unknown as PageGlobals).requestAnimationFrame(() => r(null))));
        total += Number(await canvas.getAttribute('data-draw-ms'));
      }
      return total / steps;
    };
    await page.mouse.move(cx, cy);
    const zoomFrameMs = await frames(40, (i) => page.mouse.wheel(0, i < 20 ? -120 : 120));
    await page.mouse.down();
    const panFrameMs = await frames(40, (i) => page.mouse.move(cx + (i % 20) * 10 - 100, cy + (i % 10) * 5));
    await page.mouse.up();
    return { seats: seatIds.length, held, cold, warm, zoomFrameMs: round(zoomFrameMs, 2), panFrameMs: round(panFrameMs, 2) };
  } finally {
    await browser.close();
    await app.close();
    await ctx.close();
  }
}

export function printWeb(r: WebResult): void {
  console.log('');
  console.log(`Web seat map — ${r.seats.toLocaleString('en-US')} seats (${r.held.toLocaleString('en-US')} held), Chromium ${'headless'}, 1280×860`);
  printTable([
    ['load', 'first paint ms', 'layout ms', 'layout bytes', 'availability bytes'],
    ['cold', String(r.cold.firstPaintMs), String(r.cold.layoutMs), String(r.cold.layoutBytes), String(r.cold.availabilityBytes)],
    ['warm (304)', String(r.warm.firstPaintMs), String(r.warm.layoutMs), String(r.warm.layoutBytes), String(r.warm.availabilityBytes)],
  ]);
  console.log(`drawing a frame while zooming ${r.zoomFrameMs} ms, while panning ${r.panFrameMs} ms (mean of 40 frames each, timed in the page)`);
}

export const webJson = (r: WebResult) => r;
