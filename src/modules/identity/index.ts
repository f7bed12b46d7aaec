import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { PeriodicJob } from '../../platform/jobs/runner.js';
import { AccessTokens, type AccessTokenSettings } from './access-tokens.js';
import { IdentityRepository } from './identity.repository.js';
import { identityRoutes } from './identity.routes.js';
import { IdentityService } from './identity.service.js';

export type { UserView, TokenPair } from './identity.service.js';
export { IdentityService } from './identity.service.js';
export { identityRoutes } from './identity.routes.js';

export interface IdentityModuleDeps {
  db: Db;
  clock: Clock;
  accessTokens: AccessTokenSettings;
  refreshTokenTtlSeconds: number;
  refreshTokenPurgeIntervalMs: number;
}

export function createIdentityModule(deps: IdentityModuleDeps) {
  const tokens = new AccessTokens(deps.accessTokens, deps.clock);
  const service = new IdentityService({
    repo: new IdentityRepository(deps.db),
    tokens,
    clock: deps.clock,
    refreshTokenTtlSeconds: deps.refreshTokenTtlSeconds,
  });
  const jobs: PeriodicJob[] = [
    {
      name: 'identity.purge-refresh-tokens',
      intervalMs: deps.refreshTokenPurgeIntervalMs,
      run: async () => {
        await service.purgeExpiredRefreshTokens();
      },
    },
  ];
  return { service, verifyAccessToken: tokens.verify, routes: identityRoutes, jobs };
}

export type IdentityModule = ReturnType<typeof createIdentityModule>;
