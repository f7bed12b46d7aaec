/** `mos sandbox`: the sandbox PG as its own HTTP server, at the same prefix MOS mounts it under. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { sandboxPlugin, type SandboxParts } from './sandbox.routes.js';

export async function buildSandboxServer(sandbox: SandboxParts, options: { logger: FastifyBaseLogger; prefix: string }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // A stop closes held (`timeout` fault) and keep-alive connections at once: it is a test PG.
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  await app.register(sandboxPlugin(sandbox), { prefix: options.prefix });
  return app;
}
