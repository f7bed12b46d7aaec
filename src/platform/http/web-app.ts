import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The built web app's directory: WEB_DIR, else web/dist of the checkout or image (this file sits three levels below it, in src/ or dist/). */
export function webRoot(webDir: string | undefined): string {
  return webDir ?? fileURLToPath(new URL('../../../web/dist', import.meta.url));
}

/** Whether a built web app is there to serve. */
export const webAppBuilt = (root: string) => existsSync(join(root, 'index.html'));

/** Paths the web app never answers: the API and the operator's routes keep their own 404s. */
export const RESERVED_PREFIXES = ['/v1', '/docs', '/sandbox', '/metrics', '/health'] as const;

const reserved = (path: string) => RESERVED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

export interface WebApp {
  root: string;
  /** index.html as built (read once: the asset routes are fixed at start too). */
  index: Buffer;
}

export function loadWebApp(root: string): WebApp | undefined {
  return webAppBuilt(root) ? { root, index: readFileSync(join(root, 'index.html')) } : undefined;
}

/**
 * The app's page for a request no route matched: a GET (or HEAD) that asks for HTML, outside the
 * reserved prefixes, for a path without a file extension — the app's own paths
 * (`/performances/…`), loaded on a refresh or from a link. Anything else stays a 404 problem.
 * It is the not-found handler's to call (problem.ts), so an unknown `/v1/…` path, a too-long
 * parameter (414) or the sandbox's own not-found answer are untouched.
 */
export function appPageFor(web: WebApp): (request: FastifyRequest) => Buffer | undefined {
  return (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const path = request.url.split('?')[0]!;
    if (reserved(path) || /\.[a-z0-9]+$/i.test(path) || !(request.headers.accept ?? '').includes('text/html')) return undefined;
    return web.index;
  };
}

/**
 * Serves the built web app (web/dist, made by `npm run web:build`) at `/`: each built file gets
 * its own route (no wildcard), hashed files under /assets/ are cached for good and the rest
 * revalidated, so a new build reaches browsers at once. The app's other paths are answered by
 * the not-found handler with appPageFor.
 */
export async function webAppPlugin(app: FastifyInstance, opts: { web: WebApp }): Promise<void> {
  await app.register(fastifyStatic, {
    root: opts.web.root,
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
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(opts.web.index),
  );
}
