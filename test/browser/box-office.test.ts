import jsQRModule from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// jsqr is CommonJS with an `exports.default`.
const jsQR = jsQRModule.default;
import { type Actor, admitted, apiClient, eventually, givenSale, launchChromium, type Mos, screenshot, signUp, skipBrowser, startBox } from './support.js';

/**
 * The box office in a real browser against `mos start`: a seller sets up a sale from an empty
 * account, a buyer goes from the queue to a ticket (losing a seat to another buyer on the way),
 * and a buyer on a phone-sized screen pays after a declined card. One MOS process and one
 * Chromium serve every test; each test has a browser context (cookies, storage) of its own.
 * The screenshots in docs/screenshots/ are taken here.
 */
describe.skipIf(skipBrowser)('box office in Chromium', () => {
  let mos: Mos;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // A short hold of the availability read lets the test click "Hold" before the stream shows the seat taken (the 409 path).
    [mos, browser] = await Promise.all([startBox({ WAITING_ROOM_TICK_MS: '250', SEAT_AVAILABILITY_REFRESH_MS: '1500' }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await mos?.stop();
  });

  async function openPage(opts: { phone?: boolean; lang: 'en' | 'ko' }): Promise<Page> {
    const context = await browser.newContext(
      opts.phone
        ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'ko-KR', timezoneId: 'Asia/Seoul' }
        : { viewport: { width: 1280, height: 860 }, locale: opts.lang === 'ko' ? 'ko-KR' : 'en-US', timezoneId: 'Asia/Seoul' },
    );
    contexts.push(context);
    await context.addInitScript((lang) => (globalThis as any).localStorage.setItem('mos.lang', lang), opts.lang);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !/status of (4\d\d)/.test(m.text()) && errors.push(m.text()));
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  }

  async function logIn(page: Page, who: Actor) {
    await page.goto(`${mos.base}/login`);
    await page.fill('input[name=email]', who.email);
    await page.fill('input[name=password]', who.password);
    await page.click('form button[type=submit]');
    await page.waitForURL((url) => url.pathname !== '/login');
  }

  /** The seat labels listed in a panel of the seat page. */
  const labels = (page: Page, testId: string) => page.locator(`[data-testid=${testId}] li strong`).allTextContents();

  /** Moves the map's keyboard focus `steps` seats right and selects the seat there. */
  async function pickWithKeyboard(page: Page, steps: number) {
    const map = page.locator('canvas.seatmap-canvas');
    await map.focus();
    for (let i = 0; i < steps; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
  }

  /** The QR code drawn on a ticket's canvas, decoded. */
  async function decodeQr(page: Page, index: number): Promise<string | undefined> {
    const image = await page
      .locator('[data-testid=ticket] canvas')
      .nth(index)
      .evaluate((c: any) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        return { width: data.width, height: data.height, pixels: Array.from(data.data) };
      });
    return jsQR(Uint8ClampedArray.from(image.pixels), image.width, image.height)?.data;
  }

  it('takes a seller from a new venue to an open sale', async () => {
    const page = await openPage({ lang: 'en' });
    await page.goto(`${mos.base}/signup`);
    await page.fill('input[name=name]', 'Blue Stage');
    await page.fill('input[name=email]', `seller-ui-${Date.now()}@box.test`);
    await page.fill('input[name=password]', 'correct horse battery');
    await page.check('input[name=role][value=SELLER]');
    await page.click('form button[type=submit]');
    await page.waitForURL('**/seller');

    await page.click('text=New venue');
    await page.fill('input[name=venueName]', 'Blue Hall');
    await page.fill('input[name=address]', '1 Seoul-ro');
    await page.fill('input[name=section-0]', 'FLOOR');
    await page.fill('input[name=rows-0]', '12');
    await page.fill('input[name=seats-0]', '30');
    await page.click('text=Add a section');
    await page.fill('input[name=section-1]', 'BALCONY');
    await page.fill('input[name=rows-1]', '6');
    await page.fill('input[name=seats-1]', '24');
    await page.locator('text=504 seats in all').waitFor();
    await screenshot(page, 'seller-venue');
    await page.click('form button[type=submit]');
    await page.waitForURL('**/seller/performances/new?venueId=*');

    await page.fill('input[name=title]', 'Blue Night Live');
    await page.fill('textarea[name=description]', 'One night only.');
    await page.selectOption('select[name=rule-section-0]', 'FLOOR');
    await page.fill('input[name=rule-rows-0]', '1, 2, 3');
    await page.click('form button[type=submit]');
    await page.waitForURL(/\/seller\/performances\/[0-9a-f-]{36}$/);

    // A sale that opened a minute ago, with a waiting room.
    const opened = await page.evaluate(() => {
      const d = new Date(Date.now() - 60_000);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    });
    await page.fill('input[name=saleOpensAt]', opened);
    await page.fill('input[name=maxActive]', '50');
    await page.fill('input[name=admitPerTick]', '5');
    await page.click('form[aria-labelledby=new-showtime] button[type=submit]');
    const showtime = page.locator('[data-testid=seller-showtime]');
    await showtime.first().waitFor();
    expect(await showtime.first().getAttribute('data-sale')).toBe('open');
    await page.locator('[data-testid=showtime-counts]').first().waitFor();
    expect(await page.locator('[data-testid=showtime-counts]').first().textContent()).toContain('0 sold · 0 held · 504 available of 504');

    await page.fill('input[name=campaignName]', 'Opening night 10%');
    await page.fill('input[name=percent]', '10');
    await page.fill('input[name=maxDiscount]', '15000');
    await page.fill('input[name=quantity]', '300');
    await page.click('form[aria-labelledby=new-campaign] button[type=submit]');
    await page.locator('text=Campaign created: 300 coupons.').waitFor();
    await page.locator('li.coupon', { hasText: 'Opening night 10%' }).waitFor();
    await screenshot(page, 'seller-performance', true);

    // The sale is what buyers see.
    await page.getByRole('link', { name: 'As buyers see it' }).click();
    await page.locator('button', { hasText: 'Join the queue' }).waitFor();
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('takes a buyer from the queue to a ticket with its QR code, past a seat lost to another buyer', async () => {
    const sale = await givenSale(mos.base, { title: 'Queue Night', waitingRoom: { maxActive: 2, admitPerTick: 1 }, couponAmount: 5000 });
    const call = apiClient(mos.base);
    const [buyer, rival, early] = await Promise.all([signUp(mos.base, 'BUYER', 'Min'), signUp(mos.base, 'BUYER', 'Rival'), signUp(mos.base, 'BUYER', 'Early')]);
    // Two buyers are admitted first and fill the active set: ours waits in line.
    const rivalToken = await admitted(mos.base, rival, sale.scheduleId);
    await admitted(mos.base, early, sale.scheduleId);

    const page = await openPage({ lang: 'en' });
    await logIn(page, buyer);
    await page.goto(`${mos.base}/coupons`);
    await page.locator('li.coupon', { hasText: 'Queue Night 5000 off' }).locator('button', { hasText: 'Claim' }).click();
    await page.locator('text=Claimed!').waitFor();
    await page.locator('[data-testid=wallet] li', { hasText: 'Queue Night 5000 off' }).waitFor();
    await screenshot(page, 'buyer-coupons');

    await page.goto(`${mos.base}/`);
    await page.click('text=Queue Night');
    await page.click('button:has-text("Join the queue")');
    await page.waitForURL('**/queue');
    await page.locator('[data-testid=queue-position]').waitFor();
    expect(await page.locator('[data-testid=queue-position]').textContent()).toBe('1');
    await page.locator('text=Updates live').waitFor();
    await screenshot(page, 'buyer-waiting-room');

    // The early buyer leaves: the next tick admits ours, and the page moves on to the seat map.
    await call('DELETE', `/v1/schedules/${sale.scheduleId}/queue`, undefined, early.auth);
    await page.waitForURL('**/seats', { timeout: 15_000 });
    await page.locator('canvas[data-painted=true]').waitFor();

    await pickWithKeyboard(page, 1);
    await pickWithKeyboard(page, 1);
    const picked = await labels(page, 'selection');
    expect(picked).toEqual(['A-1-1', 'A-1-2']);

    // The rival takes A-1-2 between our choice and our hold.
    const seats = await call('GET', `/v1/schedules/${sale.scheduleId}/seats`);
    const lostSeat = seats.seats.find((s: any) => s.label === 'A-1-2');
    await call('POST', `/v1/schedules/${sale.scheduleId}/holds`, { seatIds: [lostSeat.seatId] }, { ...rival.auth, 'x-admission-token': rivalToken });
    const refused = page.waitForResponse((r) => r.url().endsWith('/holds') && r.request().method() === 'POST');
    await page.click('button:has-text("Hold 2 seats")');
    expect((await refused).status()).toBe(409); // SEAT_UNAVAILABLE: the map had not shown it taken yet
    await page.locator('[data-testid=seats-lost]', { hasText: 'A-1-2 went to another buyer just now' }).waitFor();
    expect(await labels(page, 'selection')).toEqual(['A-1-1']);
    // The live availability shows it held.
    await eventually('the rival hold on the live map', async () => (await page.locator('[data-testid=live-counts]').getAttribute('data-held')) === '1');

    await pickWithKeyboard(page, 1); // from A-1-2 to A-1-3
    expect(await labels(page, 'selection')).toEqual(['A-1-1', 'A-1-3']);
    await page.click('button:has-text("Hold 2 seats")');
    await page.locator('[data-testid=hold-countdown]').waitFor();
    expect(await labels(page, 'my-holds')).toEqual(['A-1-1', 'A-1-3']);
    expect(await page.locator('[data-testid=hold-countdown]').textContent()).toMatch(/Held for you for (9|10):\d\d/);
    await eventually('our holds on the live map', async () => (await page.locator('[data-testid=live-counts]').getAttribute('data-held')) === '3');
    await screenshot(page, 'buyer-seat-map');

    await page.click('button:has-text("Continue to checkout")');
    await page.locator('[data-testid=quote]').waitFor();
    expect(await page.locator('[data-testid=quote]').textContent()).toContain('Queue Night 5000 off');
    expect(await page.locator('[data-testid=amount]').textContent()).toBe('₩235,000'); // 2 × R ₩120,000 − ₩5,000
    await screenshot(page, 'buyer-checkout');
    await page.click('button:has-text("Pay ₩235,000")');
    await page.waitForURL('**/pay/*');
    await page.locator('text=This page stands in for the Toss payment widget').waitFor();
    await screenshot(page, 'buyer-sandbox-payment');
    await page.click('button:has-text("Pay with the test card")');
    await page.locator('h1', { hasText: 'Payment complete' }).waitFor({ timeout: 15_000 });

    const tickets = page.locator('[data-testid=ticket]');
    expect(await tickets.count()).toBe(2);
    const mine = await call('GET', '/v1/me/tickets', undefined, buyer.auth);
    for (let i = 0; i < 2; i++) {
      const code = await tickets.nth(i).locator('code').textContent();
      expect(mine.items.map((t: any) => t.code)).toContain(code);
      expect(await decodeQr(page, i)).toBe(code);
    }
    await screenshot(page, 'buyer-tickets');

    await page.click('nav >> text=My orders');
    const order = page.locator('[data-testid=order]').first();
    expect(await order.getAttribute('data-status')).toBe('PAID');
    await screenshot(page, 'buyer-orders');
    await order.locator('button:has-text("Cancel and refund")').click();
    await order.locator('text=Refund this order?').waitFor();
    await order.locator('button.danger:has-text("Cancel and refund")').click();
    await page.locator('[data-testid=order][data-status=REFUNDED]').waitFor();
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('lets a buyer on a phone-sized screen, in Korean, pay after a declined card', async () => {
    await givenSale(mos.base, { title: '모바일 콘서트' });
    const buyer = await signUp(mos.base, 'BUYER', '지민');
    const page = await openPage({ phone: true, lang: 'ko' });
    await logIn(page, buyer);
    await page.click('text=모바일 콘서트');
    await page.click('button:has-text("좌석 선택")');
    await page.waitForURL('**/seats');
    await page.locator('canvas[data-painted=true]').waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    await page.getByRole('button', { name: '확대' }).tap();
    await pickWithKeyboard(page, 1);
    expect(await labels(page, 'selection')).toEqual(['A-1-1']);
    await screenshot(page, 'phone-seat-map');
    await page.click('button:has-text("1석 선점하기")');
    await page.locator('[data-testid=hold-countdown]').waitFor();
    await page.click('button:has-text("결제하기")');
    await page.locator('[data-testid=amount]').waitFor();
    expect(await page.locator('[data-testid=amount]').textContent()).toBe('₩120,000');
    await page.click('button:has-text("₩120,000 결제하기")');
    await page.waitForURL('**/pay/*');

    await page.click('button:has-text("카드 거절 시험하기")');
    const problem = page.locator('[role=alert]');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('결제가 거절되었습니다');
    expect(await problem.textContent()).not.toContain('{');
    await screenshot(page, 'phone-payment-declined');
    await page.click('text=다시 결제하기');
    await page.click('button:has-text("테스트 카드로 결제")');
    await page.locator('h1', { hasText: '결제가 완료되었습니다' }).waitFor({ timeout: 15_000 });
    expect(await decodeQr(page, 0)).toBe(await page.locator('[data-testid=ticket] code').first().textContent());
    await screenshot(page, 'phone-ticket');
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });
});
