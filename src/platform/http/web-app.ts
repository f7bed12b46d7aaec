import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The built web app's directory: WEB_DIR, else web/dist of the checkout or image (this file sits three levels below it, in src/ or dist/). */
export function webRoot(webDir: string | undefined): string {
  return webDir ?? fileURLToPath(new URL('../../../web/dist', import.meta.url));
}

/** Whether a built web app is there to serve. */
export const webAppBuilt = (root: string) => existsSync(join(root, 'index.html'));

/** Paths the web app never answers: the API and the operator's routes keep their own 404s. */
export const RESERVED_PREFIXES = ['/v1', '/docs', '/sandbox', '/metrics', '/health'] as const;

const reserved = (path: string) => RESERVED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

/**
 * Serves the built web app (web/dist, made by `npm run web:build`) at `/`. Each built file gets
 * its own route (no wildcard of the static plugin), and every other GET that asks for HTML and
 * is outside the reserved prefixes gets index.html, so the app's own paths (`/performances/…`)
 * load on a refresh — while an unknown `/v1/…` still answers the API's problem+json 404.
 * Files under /assets/ carry a content hash in their names and are cached for good;
 * index.html is revalidated on every load, so a new build reaches browsers at once.
 */
export async function webAppPlugin(app: FastifyInstance, opts: { root: string }): Promise<void> {
  if (!webAppBuilt(opts.root)) {
    app.log.warn({ root: opts.root }, 'web app not built (npm run web:build): / serves nothing');
    return;
  }
  await app.register(fastifyStatic, {
    root: opts.root,
    prefix: '/',
    wildcard: false,
    index: false,
    serveDotFiles: false,
    preCompressed: false,
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const sendIndex = (reply: FastifyReply) => reply.sendFile('index.html');
  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const path = request.url.split('?')[0]!;
    const wantsHtml = (request.headers.accept ?? '').includes('text/html');
    if (reserved(path) || !wantsHtml || /\.[a-z0-9]+$/i.test(path)) return reply.callNotFound();
    return sendIndex(reply);
  });
}
