import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The box office web app. Built to web/dist, which MOS serves at `/` (src/platform/http/web-app.ts).
 * Preact through Vite's own JSX transform (oxc): no Babel plugin. `npm run web:dev` proxies the API
 * to a running `npm start`.
 */
/** The default per-buyer seat limit, as the committed OpenAPI document states it (the hold body's maxItems). */
function maxSeatsPerBuyer(): number {
  const doc = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
  return doc.paths['/v1/schedules/{id}/holds'].post.requestBody.content['application/json'].schema.properties.seatIds.maxItems;
}

export default defineConfig({
  define: { __MOS_MAX_SEATS_PER_BUYER__: JSON.stringify(maxSeatsPerBuyer()) },
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 200 },
  server: {
    proxy: Object.fromEntries(['/v1', '/sandbox', '/docs', '/health'].map((p) => [p, { target: process.env.MOS_URL ?? 'http://127.0.0.1:3000' }])),
  },
});
