import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.js';

/** The serving rules of the web app, over a stand-in build (the real one is driven in test/browser). */
describe('web app serving', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mos-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>MOS</title><div id="app"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    t = await createTestApp({ env: { WEB_DIR: dir } });
  });
  afterAll(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and revalidates it on every load', async () => {
    const res = await t.app.inject({ url: '/', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toContain('<div id="app">');
  });

  it("serves index.html for the app's own paths (a refresh on /performances/…)", async () => {
    for (const url of ['/performances/0197', '/seller/settlements', '/orders?x=1']) {
      const res = await t.app.inject({ url, headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain('<div id="app">');
    }
  });

  it('caches hashed assets for good', async () => {
    const res = await t.app.inject({ url: '/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('never shadows the API or the operator routes: their unknown paths stay problem+json 404s', async () => {
    for (const url of ['/v1/nope', '/v1/schedules/x/nope', '/docs/nope', '/sandbox/nope', '/health/nope', '/metrics/x', '/assets/missing.js']) {
      const res = await t.app.inject({ url, headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(res.json().code, url).toBe('NOT_FOUND');
    }
    expect((await t.app.inject({ url: '/health/live' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/docs/json' })).statusCode).toBe(200);
  });

  it('leaves the refusals made below the routes as they were (a path parameter over the router limit is 414)', async () => {
    const res = await t.app.inject({ url: `/v1/performances/${'a'.repeat(200)}`, headers: { accept: 'text/html' } });
    expect([res.statusCode, res.json().code]).toEqual([414, 'URI_TOO_LONG']);
  });

  it('answers HEAD like GET, and never a POST with the page', async () => {
    expect((await t.app.inject({ method: 'HEAD', url: '/orders', headers: { accept: 'text/html' } })).statusCode).toBe(200);
    const post = await t.app.inject({ method: 'POST', url: '/orders', headers: { accept: 'text/html' }, payload: {} });
    expect([post.statusCode, post.json().code]).toEqual([404, 'NOT_FOUND']);
  });

  it('answers a non-HTML request for an unknown path with the problem 404', async () => {
    const res = await t.app.inject({ url: '/nope', headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('keeps its routes out of the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/v1') && !p.startsWith('/health') && p !== '/metrics')).toEqual([]);
  });
});
