import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from './platform/redis/client.js';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from './platform/clock.js';
import { keptInDataDir } from './platform/data-dir.js';
import { openPglite, openPostgres, type DatabaseHandle } from './platform/db/client.js';
import { migrateDatabase } from './platform/db/migrate.js';
import type { EventBus } from './platform/events/bus.js';
import { MemoryEventBus } from './platform/events/bus.memory.js';
import { RedisEventBus } from './platform/events/bus.redis.js';
import { createEvents, type Events } from './platform/events/events.js';
import { MemoryIdempotencyStore } from './platform/http/idempotency.memory.js';
import { RedisIdempotencyStore } from './platform/http/idempotency.redis.js';
import type { IdempotencyStore } from './platform/http/idempotency.store.js';
import { MemoryLeaseStore } from './platform/jobs/lease.memory.js';
import { RedisLeaseStore } from './platform/jobs/lease.redis.js';
import type { LeaseStore } from './platform/jobs/lease.store.js';
import type { PeriodicJob } from './platform/jobs/runner.js';
import { logDestination, loggerOptions } from './platform/observability/logger.js';
import { breakerAlerts, createAlerts, memoryClaim, redisClaim, type Alerts } from './platform/observability/alerts.js';
import { createMetrics, type Metrics } from './platform/observability/metrics.js';
import { createRedis } from './platform/redis/client.js';
import { ConfigError, type Config } from './config.js';
import { createBookingModule, createSeatHoldStore, type BookingModule } from './modules/booking/index.js';
import { createCatalogModule, type CatalogModule } from './modules/catalog/index.js';
import { createCouponsModule, type CouponsModule } from './modules/coupons/index.js';
import { createIdentityModule, type IdentityModule } from './modules/identity/index.js';
import { createPaymentsModule, createTossClient, type PaymentsModule } from './modules/payments/index.js';
import { createSandbox, isTossErrorCode, type Sandbox } from './modules/payments/sandbox/index.js';
import { createSettlementModule, type SettlementModule } from './modules/settlement/index.js';
import { createWaitingRoomModule, type WaitingRoomModule } from './modules/waiting-room/index.js';

/**
 * The composition root: the only place that decides which adapter serves each port.
 * Embedded mode (no DATABASE_URL/REDIS_URL): PGlite + memory adapters, one process.
 * Production: PostgreSQL + Redis adapters, shared by every API and worker process. Every Redis
 * user gets the one client made here: a single server's (REDIS_URL) or a cluster's
 * (REDIS_CLUSTER_NODES), with the same key prefix, so no adapter knows which it runs on.
 */
export interface AppContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Failures that need a person, posted to ALERT_WEBHOOK_URL once per incident. */
  readonly alerts: Alerts;
  readonly database: DatabaseHandle;
  /** Null in embedded mode. */
  readonly redis: RedisClient | null;
  readonly idempotency: IdempotencyStore;
  readonly leases: LeaseStore;
  readonly identity: IdentityModule;
  readonly catalog: CatalogModule;
  readonly waitingRoom: WaitingRoomModule;
  readonly booking: BookingModule;
  readonly coupons: CouponsModule;
  readonly payments: PaymentsModule;
  readonly settlement: SettlementModule;
  /** The Toss-compatible sandbox PG, when this process mounts it (TOSS_SANDBOX; on by default in embedded mode). */
  readonly sandbox: Sandbox | null;
  /**
   * The outbox relay (in `jobs`), the bus (Redis Streams in production, in-process embedded) and
   * `events.consume(...)`, by which modules register event consumers (they join `consumers`).
   */
  readonly events: Events;
  /** Long-running consumers (not leader-elected: every worker runs them, as one group). */
  readonly consumers: readonly { start(): void; stop(): Promise<void> }[];
  /** Every periodic job of every module, for the worker. */
  readonly jobs: readonly PeriodicJob[];
  /** Dependency checks for /health/ready. */
  readonly readiness: Record<string, () => Promise<void>>;
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: Clock;
  logger?: Logger;
  /** Apply migrations while opening (embedded start and tests; production runs `mos migrate`). */
  migrate?: boolean;
  /** Seed source of the waiting room's opening shuffle (tests fix it). */
  shuffleSeed?: () => number;
  /** The sandbox PG's fault draws (tests fix them); default seeded by SANDBOX_SEED. */
  sandboxRandom?: () => number;
}

/** The sandbox PG as the configuration describes it (also what `mos sandbox` serves). */
export function sandboxFromConfig(config: Config, clock: Clock, random?: () => number): Sandbox {
  if (!isTossErrorCode(config.sandbox.faultCode)) {
    throw new ConfigError(`Invalid configuration — SANDBOX_FAULT_CODE: not a Toss error code the sandbox knows: ${config.sandbox.faultCode}`);
  }
  if (config.pg.secretKey.startsWith('live_')) {
    throw new ConfigError('Invalid configuration — TOSS_SECRET_KEY: the sandbox PG never runs on a live secret key');
  }
  return createSandbox({
    clock,
    secretKey: config.pg.secretKey,
    latencyMs: config.sandbox.latencyMs,
    faultRate: config.sandbox.faultRate,
    faultCode: config.sandbox.faultCode,
    dropRate: config.sandbox.dropRate,
    timeoutRate: config.sandbox.timeoutRate,
    seed: config.sandbox.seed,
    webhookUrl: config.sandbox.webhookUrl,
    webhookTimeoutMs: config.sandbox.webhookTimeoutMs,
    ...(random ? { random } : {}),
  });
}

export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? pino(loggerOptions(config.logLevel), logDestination());
  const production = config.mode === 'production';
  // Before anything is opened: a bad sandbox setting stops the start with nothing to close.
  const sandbox = config.sandbox.enabled ? sandboxFromConfig(config, clock, options.sandboxRandom) : null;

  const database = production
    ? openPostgres(config.db.url!, config.db.poolSize, {
        connectTimeoutMs: config.db.connectTimeoutMs,
        onError: (err) => logger.warn({ reason: err.message }, 'database connection lost'),
      })
    : await openPglite(config.db.dataDir);
  const redis = production
    ? createRedis(config.redis.clusterNodes ? { clusterNodes: config.redis.clusterNodes } : { url: config.redis.url! }, config.redis.keyPrefix, {
        commandTimeoutMs: config.redis.commandTimeoutMs,
        onError: (err) => logger.warn({ reason: err.message }, 'redis connection error'),
      })
    : null;
  try {
    if (options.migrate ?? !production) await migrateDatabase(database);

    const metrics = createMetrics();
    const alerts = createAlerts({
      webhookUrl: config.alerts.webhookUrl,
      repeatAfterMs: config.alerts.repeatAfterSeconds * 1000,
      timeoutMs: config.alerts.timeoutMs,
      // Once per incident across every process: the first to claim it posts.
      claim: redis ? redisClaim(redis) : memoryClaim(() => clock.now().getTime()),
      logger,
      registry: metrics.registry,
    });
    // One consumer name per process, in every consumer group it joins.
    const consumerName = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const bus: EventBus = redis ? new RedisEventBus(redis, config.events.streamMaxLen) : new MemoryEventBus(clock, config.events.streamMaxLen);
    const events = createEvents({
      db: database.db,
      bus,
      clock,
      registry: metrics.registry,
      logger,
      relay: { intervalMs: config.events.relayIntervalMs, batch: config.events.relayBatch },
      purge: {
        intervalMs: config.events.purgeIntervalSeconds * 1000,
        retentionMs: config.events.retentionHours * 3_600_000,
        batch: config.events.purgeBatch,
      },
      alerts,
      consumer: {
        consumerName,
        batch: config.events.consumerBatch,
        staleAfterMs: config.events.consumerStaleMs,
        maxDeliveries: config.events.consumerMaxDeliveries,
        idleMs: config.events.consumerIdleMs,
      },
    });
    const secret = config.auth.jwtSecret ?? embeddedSecret(config.db.dataDir);
    const identity = createIdentityModule({
      db: database.db,
      clock,
      accessTokens: {
        secret,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        ttlSeconds: config.auth.accessTokenTtlSeconds,
      },
      refreshTokenTtlSeconds: config.auth.refreshTokenTtlSeconds,
      refreshTokenPurgeIntervalMs: config.jobs.refreshTokenPurgeIntervalSeconds * 1000,
    });

    // The seat map reads holds from booking's store, and booking prices seats through the
    // catalog: the store is made first and handed to both.
    const holdStore = createSeatHoldStore(redis);
    const catalog = createCatalogModule({
      db: database.db,
      clock,
      holds: { heldSeats: (scheduleId) => holdStore.heldSeats(scheduleId, clock.now().getTime()) },
      // Through booking's holds service, which loads a showtime the store has no state for.
      availability: { availability: (scheduleId, since) => booking.holds.availability(scheduleId, since) },
      logger,
      availabilitySettings: config.catalog.availability,
      venueMaxSeats: config.catalog.venueMaxSeats,
      quotas: config.catalog.quotas,
      seatMapCacheSeats: config.catalog.seatMapCacheSeats,
      scheduleCacheMs: config.catalog.scheduleCacheMs,
      waitingRoomDefaults: config.catalog.waitingRoomDefaults,
    });

    const waitingRoom = createWaitingRoomModule({
      redis,
      clock,
      registry: metrics.registry,
      logger,
      tokenSecret: secret,
      issuer: config.auth.issuer,
      findSchedule: (id) => catalog.inventory.scheduleForSale(id),
      settings: config.waitingRoom,
      ...(options.shuffleSeed ? { seed: options.shuffleSeed } : {}),
    });

    const coupons = createCouponsModule({
      db: database.db,
      redis,
      findPerformance: catalog.findPerformance,
      clock,
      registry: metrics.registry,
      logger,
      alerts,
      consumer: {
        name: consumerName,
        batch: config.coupons.consumerBatch,
        staleAfterMs: config.coupons.consumerStaleMs,
        maxDeliveries: config.coupons.consumerMaxDeliveries,
        idleMs: config.coupons.consumerIdleMs,
      },
      frozenRetryAfterSeconds: config.coupons.frozenRetryAfterSeconds,
      durability: { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs },
    });

    const booking = createBookingModule({
      db: database.db,
      store: holdStore,
      inventory: catalog.inventory,
      coupons: coupons.orderCoupons,
      clock,
      registry: metrics.registry,
      settings: config.booking,
    });

    // TOSS_API_URL: Toss, a `mos sandbox` elsewhere, or — its default where this process mounts
    // the sandbox (embedded mode) — this process's own sandbox over loopback, so a confirm goes
    // through HTTP, Basic auth, idempotency and faults exactly as it would to Toss.
    const pg = createTossClient(
      {
        ...config.pg,
        // Every breaker transition is logged; an opening is also an alert (once per 10 minutes).
        log: breakerAlerts({
          alerts,
          logger: logger.child({ dependency: 'pg' }),
          kind: 'pg-circuit-open',
          dependency: 'the PG (Toss Payments)',
          instance: consumerName,
          now: () => clock.now().getTime(),
        }),
      },
      clock,
    );
    const payments = createPaymentsModule({
      db: database.db,
      pg,
      orders: booking.orders,
      leaveWaitingRoom: async (userId, scheduleId) => {
        const schedule = await catalog.inventory.scheduleForSale(scheduleId);
        if (schedule?.waitingRoom.enabled) await waitingRoom.service.leave(userId, scheduleId);
      },
      clock,
      registry: metrics.registry,
      logger,
      alerts,
      settings: config.payments,
    });

    // Settlement hears of sales through payments' events and asks payments for its figures
    // through payments' public interface: it never reads payments' (or anyone's) tables.
    const settlement = createSettlementModule({
      db: database.db,
      consume: (spec) => events.consume(spec),
      paymentFigures: (from, to) => payments.service.figures(from, to),
      clock,
      logger,
      alerts,
      settings: config.settlement,
    });

    const readiness: Record<string, () => Promise<void>> = { database: () => database.ping() };
    if (redis) {
      readiness.redis = async () => {
        await redis.ping();
      };
    }

    return {
      config,
      clock,
      logger,
      metrics,
      alerts,
      database,
      redis,
      idempotency: redis ? new RedisIdempotencyStore(redis) : new MemoryIdempotencyStore(clock),
      leases: redis ? new RedisLeaseStore(redis) : new MemoryLeaseStore(clock),
      identity,
      catalog,
      waitingRoom,
      booking,
      coupons,
      payments,
      settlement,
      sandbox,
      events,
      consumers: [coupons.consumer, ...events.consumers()],
      jobs: [...identity.jobs, ...waitingRoom.jobs, ...booking.jobs, ...payments.jobs, ...settlement.jobs, events.relay, events.purge],
      readiness,
      close: async () => {
        // Before the database closes: embedded mode persists and seals the coupon hot state here.
        await coupons
          .close()
          .catch((err: unknown) => logger.error({ err }, 'coupon hot state hand-over failed; its campaigns will need `mos coupons reconcile`'));
        waitingRoom.watcher.close();
        catalog.watcher.close();
        redis?.disconnect();
        await database.close();
      },
    };
  } catch (err) {
    redis?.disconnect();
    await database.close().catch(() => {});
    throw err;
  }
}

/**
 * Embedded mode needs no configuration, yet tokens should survive a restart: the first start
 * writes a random secret into DATA_DIR and later starts read it back.
 */
function embeddedSecret(dataDir: string): string {
  return keptInDataDir(dataDir, 'jwt-secret', () => randomBytes(32).toString('base64url')).value;
}
