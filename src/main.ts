#!/usr/bin/env node
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createContext, sandboxFromConfig, type AppContext } from './context.js';
import { seedDemo, type DemoCredentials } from './demo.js';
import { buildSandboxServer, SANDBOX_DEFAULT_SECRET_KEY, SANDBOX_PREFIX } from './modules/payments/sandbox/index.js';
import { systemClock } from './platform/clock.js';
import { migrateDatabase } from './platform/db/migrate.js';
import { AppError } from './platform/http/errors.js';
import { webAppBuilt, webRoot } from './platform/http/web-app.js';
import { JobRunner } from './platform/jobs/runner.js';
import { logDestination, loggerOptions } from './platform/observability/logger.js';

const usage = `mos — reserved-seat ticketing backend

Usage:
  mos start                    embedded all-in-one: migrate, demo data, API and workers in one process
  mos api                      production API process (stateless; run many behind a load balancer)
  mos worker                   production worker: periodic jobs, one leader per job
  mos sandbox                  the Toss-compatible sandbox PG alone, on SANDBOX_PORT (a test PG: its ledger lives in memory)
  mos migrate                  apply database migrations
  mos seed                     add the demo data (idempotent)
  mos admin create --email <e> --password <p> [--name <n>]
                               create an ADMIN account (or reset its password)
  mos coupons reconcile <campaignId>
                               after a coupon campaign's hot state was lost (claims answer 503):
                               rebuild its stock from the wallet and resume claims

Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<void> {
  const [command, sub] = argv;
  switch (command) {
    case 'start':
      return start(loadConfig());
    case 'api':
      return api(requireProduction(loadConfig(), 'api'));
    case 'worker':
      return worker(requireProduction(loadConfig(), 'worker'));
    case 'sandbox':
      return sandbox(loadConfig());
    case 'migrate':
      return once(loadConfig(), async (ctx) => {
        await migrateDatabase(ctx.database);
        ctx.logger.info('migrations applied');
      });
    case 'seed':
      return once(loadConfig(), async (ctx) => {
        const seeded = await seedDemo(ctx);
        ctx.logger.info('demo data seeded');
        process.stdout.write(`${demoAccountLines(seeded.credentials).join('\n')}\n`);
      });
    case 'admin':
      if (sub !== 'create') break;
      return adminCreate(argv.slice(2));
    case 'coupons':
      if (sub !== 'reconcile' || !argv[2] || argv.length > 3) break;
      return couponsReconcile(argv[2]);
    case undefined:
    case 'help':
    case '--help':
      console.log(usage);
      return;
  }
  console.error(`unknown command: ${argv.join(' ')}\n\n${usage}`);
  process.exitCode = 2;
}

/**
 * The memory adapters hold hot state inside one process; several API processes on them would
 * each believe they own every seat. So the scalable commands run on production adapters only.
 */
function requireProduction(config: Config, command: string): Config {
  if (config.mode !== 'production') {
    throw new ConfigError(
      `mos ${command} runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL or REDIS_CLUSTER_NODES (or use \`mos start\` for embedded mode)`,
    );
  }
  return config;
}

async function start(config: Config): Promise<void> {
  const ctx = await createContext(config, { migrate: true });
  const seeded = config.seedDemo ? await seedDemo(ctx) : undefined;
  const runner = jobRunner(ctx);
  await serve(ctx, async () => {
    await runner.stop(ctx.jobs);
    await Promise.all(ctx.consumers.map((c) => c.stop()));
  });
  runner.start(ctx.jobs);
  for (const c of ctx.consumers) c.start();

  const host = config.http.host;
  const base = `http://${['0.0.0.0', '::', '127.0.0.1', '::1'].includes(host) ? 'localhost' : host}:${config.http.port}`;
  const lines = [
    '',
    `MOS is running (${config.mode} mode${config.mode === 'embedded' ? `, data in ${config.db.dataDir}` : ''}, listening on ${host}:${config.http.port})`,
    ...(config.http.webDir !== 'off' && webAppBuilt(webRoot(config.http.webDir)) ? [`  box office    ${base}/`] : []),
    `  API docs      ${base}/docs`,
    `  OpenAPI       ${base}/docs/json`,
    `  health        ${base}/health/ready`,
    ...(seeded
      ? [
          '',
          ...demoAccountLines(seeded.credentials),
          '',
          `Demo showtime (sale open)  ${base}/v1/schedules/${seeded.scheduleId}`,
          `  its seat map             ${base}/v1/schedules/${seeded.scheduleId}/seats`,
          `  performances             ${base}/v1/performances`,
          `Demo coupon campaign       POST ${base}/v1/coupons/${seeded.campaignId}/claims (as the buyer)`,
        ]
      : []),
    ...(ctx.sandbox
      ? [
          // The default key is the sandbox's public test key; any other key is the operator's to keep.
          `Sandbox PG (Toss)          POST ${base}${SANDBOX_PREFIX}/checkout (${
            ctx.sandbox.secretKey === SANDBOX_DEFAULT_SECRET_KEY ? `curl -u ${SANDBOX_DEFAULT_SECRET_KEY}:` : 'Basic auth: TOSS_SECRET_KEY + ":"'
          }), then POST ${base}/v1/payments/confirm as the buyer`,
        ]
      : []),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The passwords are shown once, when they are made; later starts say where they are kept, so
 * they do not land in every log of every start.
 */
function demoAccountLines(credentials: DemoCredentials): string[] {
  if (credentials.created) {
    return [
      `Demo accounts (POST /v1/auth/login)${credentials.file ? ` — shown once, kept in ${credentials.file}` : ''}:`,
      ...credentials.accounts.map((a) => `  ${a.role.padEnd(7)} ${a.email} / ${a.password}`),
    ];
  }
  return [`Demo accounts (POST /v1/auth/login), passwords in ${credentials.file}:`, ...credentials.accounts.map((a) => `  ${a.role.padEnd(7)} ${a.email}`)];
}

async function api(config: Config): Promise<void> {
  const ctx = await createContext(config, { migrate: false });
  await serve(ctx);
  ctx.logger.info({ port: config.http.port }, 'api listening');
}

/**
 * The sandbox PG as its own process, for MOS processes (and load tests) to call over the network
 * as they would call Toss: no database, no Redis, nothing of MOS but the configuration. A restart
 * forgets its ledger.
 */
async function sandbox(config: Config): Promise<void> {
  const logger = pino(loggerOptions(config.logLevel), logDestination());
  const app = await buildSandboxServer(sandboxFromConfig(config, systemClock), { logger, prefix: SANDBOX_PREFIX });
  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'sandbox stopping after an error');
    else logger.info({ signal }, 'sandbox stopping');
    await app.close();
  });
  await app.listen({ port: config.sandbox.port, host: config.http.host });
  logger.info({ host: config.http.host, port: config.sandbox.port, prefix: SANDBOX_PREFIX }, 'sandbox PG listening');
}

async function worker(config: Config): Promise<void> {
  const ctx = await createContext(config, { migrate: false });
  const runner = jobRunner(ctx);
  runner.start(ctx.jobs);
  for (const c of ctx.consumers) c.start();
  ctx.logger.info({ jobs: ctx.jobs.map((j) => j.name) }, 'worker running');
  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) ctx.logger.error({ err }, 'worker stopping after an error');
    else ctx.logger.info({ signal }, 'worker stopping');
    await runner.stop(ctx.jobs);
    await Promise.all(ctx.consumers.map((c) => c.stop()));
    await ctx.close();
  });
}

/** Listens, and on SIGTERM/SIGINT stops taking requests, finishes in-flight ones, then closes. */
async function serve(ctx: AppContext, beforeClose?: () => Promise<void>) {
  const app = await buildApp(ctx);
  closeWithGrace({ delay: ctx.config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) ctx.logger.error({ err }, 'stopping after an error');
    else ctx.logger.info({ signal }, 'shutting down');
    await beforeClose?.();
    await app.close();
    await ctx.close();
  });
  await app.listen({ port: ctx.config.http.port, host: ctx.config.http.host });
  return app;
}

/** The periodic jobs' runner: one leader per job through the lease store; a failed run is logged and counted. */
function jobRunner(ctx: AppContext): JobRunner {
  return new JobRunner({
    leases: ctx.leases,
    leaseMs: ctx.config.jobs.leaseSeconds * 1000,
    logger: ctx.logger,
    onError: (job) => ctx.metrics.jobFailures.inc({ job }),
  });
}

async function once(config: Config, fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  const ctx = await createContext(config, { migrate: true });
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

async function adminCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (!values.email || !values.password) throw new ConfigError('admin create needs --email and --password');
  if (values.password.length < 8) throw new ConfigError('--password must be at least 8 characters');
  // The same rule as a name sent over HTTP: trimmed, then not empty.
  const name = (values.name ?? 'Administrator').trim();
  if (!name) throw new ConfigError('--name must not be blank');
  const { email, password } = values;
  await once(loadConfig(), async (ctx) => {
    const user = await ctx.identity.service.upsertUser({ email, password, name, role: 'ADMIN' });
    process.stdout.write(`admin ready: ${user.email} (${user.id})\n`);
  });
}

/**
 * The operator's step after `coupon hot state ... lost` was logged (mos_coupon_hot_state_lost_total
 * went up). In production it acts on the shared Redis and PostgreSQL; in embedded mode run it with
 * MOS stopped (or use POST /v1/admin/coupons/:id/reconcile on the running process).
 */
async function couponsReconcile(campaignId: string): Promise<void> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(campaignId)) throw new ConfigError(`not a campaign id: ${campaignId}`);
  await once(loadConfig(), async (ctx) => {
    try {
      const done = await ctx.coupons.service.reconcile(campaignId);
      process.stdout.write(`campaign ${done.campaignId} reconciled: epoch ${done.epoch}, ${done.issued} coupons in wallets, ${done.remaining} offered again\n`);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      process.stderr.write(`reconcile refused (${err.code}): ${err.detail}\n`);
      process.exitCode = 1;
    }
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
