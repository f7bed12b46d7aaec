import { defineConfig } from 'vitest/config';

/**
 * The HTTP suites run twice — embedded (PGlite + memory adapters) and production (PostgreSQL +
 * Redis) — so both modes keep one behaviour; the hot-state suites run a third time on a Redis
 * Cluster. Each test file makes its own database and Redis
 * key prefix (test/support/harness.ts), so files run in parallel without colliding.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Vitest's default is one worker fewer than the cores: one on a 2-core CI box, every file in
    // turn. Most of the suite's time is waiting (child processes starting, TTLs lapsing, the
    // on-sale scene's crowd, the browser), so two files at a time use the box better.
    maxWorkers: 2,
    projects: [
      {
        extends: true, // the timeouts above: a project does not inherit them otherwise
        test: {
          name: 'unit',
          // test/architecture.test.ts reads source files only, test/pay-order-statement.test.ts builds SQL text,
          // test/web-client.test.ts generates the web app's API types: they need no database or Redis.
          include: ['src/**/*.test.ts', 'test/architecture.test.ts', 'test/pay-order-statement.test.ts', 'test/web-client.test.ts'],
        },
      },
      {
        extends: true, // the timeouts above: a project does not inherit them otherwise
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/contract/**/*.test.ts'],
        },
      },
      {
        extends: true, // the timeouts above: a project does not inherit them otherwise
        test: {
          name: 'http:embedded',
          include: ['test/http/**/*.test.ts'],
          env: { MOS_TEST_MODE: 'embedded' },
        },
      },
      {
        extends: true, // the timeouts above: a project does not inherit them otherwise
        test: {
          name: 'http:production',
          include: ['test/http/**/*.test.ts'],
          env: { MOS_TEST_MODE: 'production' },
        },
      },
      {
        extends: true, // the timeouts above: a project does not inherit them otherwise
        test: {
          // The third mode of the hot state: a local Redis Cluster (3 masters, 1 replica each,
          // started once by the global setup), where a command or script spanning two slots
          // fails. The hot-state contracts, the races and the multi-process run on it; the
          // failover test (test/cluster) starts a cluster of its own, since it kills a master.
          name: 'cluster',
          include: [
            'test/contract/**/*.test.ts',
            'test/http/booking-race.test.ts',
            'test/http/coupons-race.test.ts',
            'test/integration/waiting-room-multiprocess.test.ts',
            'test/cluster/**/*.test.ts',
          ],
          env: { MOS_TEST_MODE: 'production', MOS_TEST_REDIS: 'cluster' },
          globalSetup: ['test/support/cluster-setup.ts'],
          // After every other project, not beside them: its Redis servers, mos processes and
          // failover load would starve the timing-sensitive races of the others on a small CI box.
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The web app in Debian's Chromium against `mos start` (test/browser/support.ts). One file,
        // one browser and one MOS for all its tests; MOS_SKIP_BROWSER_TESTS=1 skips it where Chromium
        // is not installed (CI installs it).
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
