import type { RedisClient } from '../../platform/redis/client.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { PeriodicJob } from '../../platform/jobs/runner.js';
import type { ScheduleView } from '../catalog/index.js';
import { admissionGuard } from './admission-guard.js';
import { AdmissionTokens } from './admission-tokens.js';
import { QueueWatcher } from './queue-stream.js';
import { createWaitingRoomMetrics } from './waiting-room.metrics.js';
import { MemoryWaitingRoomStore } from './waiting-room.memory.js';
import { RedisWaitingRoomStore } from './waiting-room.redis.js';
import { waitingRoomRoutes } from './waiting-room.routes.js';
import { internals } from './testing.js';
import { WaitingRoomService, type WaitingRoomSettings } from './waiting-room.service.js';

export type { AdmissionGuard } from './admission-guard.js';
export { AdmissionHeaders } from './waiting-room.schemas.js';
export type { WaitingRoomService, QueueView } from './waiting-room.service.js';

export interface WaitingRoomModuleDeps {
  redis: RedisClient | null;
  clock: Clock;
  registry: Registry;
  logger: Logger;
  tokenSecret: string;
  issuer: string;
  findSchedule: (id: string) => Promise<ScheduleView | undefined>;
  settings: WaitingRoomSettings & { streamIntervalMs: number };
  seed?: () => number;
}

export function createWaitingRoomModule(deps: WaitingRoomModuleDeps) {
  const store = deps.redis ? new RedisWaitingRoomStore(deps.redis) : new MemoryWaitingRoomStore();
  const service = new WaitingRoomService({
    store,
    clock: deps.clock,
    tokens: new AdmissionTokens(deps.tokenSecret, deps.issuer, deps.clock),
    findSchedule: deps.findSchedule,
    settings: deps.settings,
    metrics: createWaitingRoomMetrics(deps.registry),
    ...(deps.seed ? { seed: deps.seed } : {}),
  });
  const watcher = new QueueWatcher(service, deps.settings.streamIntervalMs, deps.logger.child({ module: 'waiting-room' }), deps.clock);
  const jobs: PeriodicJob[] = [{ name: 'waiting-room.admit', intervalMs: deps.settings.tickMs, run: (fence) => service.tick(fence) }];
  return { service, watcher, guard: admissionGuard(service), routes: waitingRoomRoutes, jobs, [internals]: { store } };
}

export type WaitingRoomModule = ReturnType<typeof createWaitingRoomModule>;
