import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The box office web app. Built to web/dist, which MOS serves at `/` (src/platform/http/web-app.ts).
 * Preact through Vite's own JSX transform (oxc): no Babel plugin. `npm run web:dev` proxies the API
 * to a running `npm start`.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 200 },
  server: {
    proxy: Object.fromEntries(['/v1', '/sandbox', '/docs', '/health'].map((p) => [p, { target: process.env.MOS_URL ?? 'http://127.0.0.1:3000' }])),
  },
});
