import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkImports, readSources, type ImportViolation } from './support/import-rules.js';

/**
 * Imports of a module's internals that stand today, each with why. A new one fails the test;
 * so does an entry that no longer matches an import, so the list only shrinks.
 */
const allowed: readonly { file: string; targets: readonly string[]; reason: string }[] = [
  {
    file: 'test/contract/coupon-store.test.ts',
    targets: ['coupons/coupon-claims.memory.js', 'coupons/coupon-claims.redis.js', 'coupons/coupon-claims.store.js'],
    reason: 'a contract suite runs both adapters of the port, which index.ts rightly leaves to context.ts to choose',
  },
  {
    file: 'test/contract/seat-holds-store.test.ts',
    targets: ['booking/seat-holds.memory.js', 'booking/seat-holds.redis.js', 'booking/seat-holds.store.js'],
    reason: 'a contract suite runs both adapters of the port, which index.ts rightly leaves to context.ts to choose',
  },
  {
    file: 'test/contract/waiting-room-store.test.ts',
    targets: ['waiting-room/shuffle.js', 'waiting-room/waiting-room.memory.js', 'waiting-room/waiting-room.redis.js', 'waiting-room/waiting-room.store.js'],
    reason: 'a contract suite runs both adapters of the port, and predicts the opening order with the pure shuffle',
  },
];

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const isAllowed = (v: ImportViolation) => allowed.some((a) => a.file === v.file && a.targets.some((t) => v.target === `src/modules/${t}`));

describe('module boundaries', () => {
  const sources = readSources(repoRoot);
  const violations = checkImports(sources);

  it('reads the whole tree (src, test, bench, scripts)', () => {
    const roots = new Set(sources.map((s) => s.path.split('/')[0]));
    expect([...roots].sort()).toEqual(['bench', 'scripts', 'src', 'test']);
    expect(sources.length).toBeGreaterThan(100);
  });

  it('reaches another module only through its index.ts, and keeps modules out of src/platform', () => {
    expect(violations.filter((v) => !isAllowed(v)).map((v) => v.message)).toEqual([]);
  });

  it('lists no exception that the code no longer needs', () => {
    const stale = allowed.flatMap((a) =>
      a.targets.filter((t) => !violations.some((v) => v.file === a.file && v.target === `src/modules/${t}`)).map((t) => `${a.file} -> ${t}`),
    );
    expect(stale).toEqual([]);
  });
});

describe('the import checker', () => {
  it('finds each kind of breach, however the import is written', () => {
    const found = checkImports([
      { path: 'src/platform/http/bad.ts', text: "import type { BookingModule } from '../../modules/booking/index.js';\n" },
      {
        path: 'src/modules/booking/bad.ts',
        text: "// import { x } from '../coupons/ignored-in-a-comment.js';\nimport type {\n  CouponsService,\n} from '../coupons/coupons.service.js';\n",
      },
      { path: 'bench/bad.ts', text: "const { seatMap } = await import('../src/modules/catalog/seat-map.js');\nimport { seedDemo } from '../src/demo.js';\n" },
      { path: 'test/http/bad.test.ts', text: "const { hash } = require('../../src/modules/identity/passwords.js');\n" },
    ]);
    expect(found.map((v) => v.message)).toEqual([
      'src/platform/http/bad.ts:1 imports src/modules/booking/index.js: src/platform/ must not import a module (the kernel knows no business word)',
      'src/modules/booking/bad.ts:4 imports src/modules/coupons/coupons.service.js: only src/modules/coupons/index.ts is open to code outside the coupons module',
      'bench/bad.ts:1 imports src/modules/catalog/seat-map.js: only src/modules/catalog/index.ts (or testing.ts) is open to code outside the catalog module',
      "bench/bad.ts:2 imports src/demo.js: bench/ uses src/ only through a module's index.ts, src/platform/, src/app, src/context and src/config",
      'test/http/bad.test.ts:1 imports src/modules/identity/passwords.js: only src/modules/identity/index.ts (or testing.ts) is open to code outside the identity module',
    ]);
  });

  it('treats a sub-module (payments/sandbox) as a module of its own, in both directions', () => {
    const found = checkImports([
      { path: 'src/app.ts', text: "import { sandboxPlugin } from './modules/payments/sandbox/sandbox.routes.js';\n" },
      { path: 'src/modules/payments/toss.client.ts', text: "import { TossPayment } from './sandbox/toss.wire.js';\n" },
      { path: 'src/modules/payments/sandbox/sandbox.service.ts', text: "import { codes } from '../toss-codes.js';\n" },
      { path: 'test/http/bad.test.ts', text: "import { x } from '../../src/modules/payments/sandbox/sandbox.store.js';\n" },
    ]);
    expect(found.map((v) => v.message)).toEqual([
      'src/app.ts:1 imports src/modules/payments/sandbox/sandbox.routes.js: only src/modules/payments/sandbox/index.ts is open to code outside the payments/sandbox module',
      'src/modules/payments/toss.client.ts:1 imports src/modules/payments/sandbox/toss.wire.js: only src/modules/payments/sandbox/index.ts is open to code outside the payments/sandbox module',
      'src/modules/payments/sandbox/sandbox.service.ts:1 imports src/modules/payments/toss-codes.js: only src/modules/payments/index.ts is open to code outside the payments module',
      'test/http/bad.test.ts:1 imports src/modules/payments/sandbox/sandbox.store.js: only src/modules/payments/sandbox/index.ts (or testing.ts) is open to code outside the payments/sandbox module',
    ]);
    expect(
      checkImports([
        { path: 'src/app.ts', text: "import { sandboxPlugin } from './modules/payments/sandbox/index.js';\n" },
        { path: 'src/modules/payments/toss.client.ts', text: "import { TossPayment } from './sandbox/index.js';\n" },
        { path: 'src/modules/payments/sandbox/sandbox.routes.ts', text: "import { x } from './sandbox.store.js';\nimport { y } from '../index.js';\n" },
      ]),
    ).toEqual([]);
  });

  it('lets through what the rule allows', () => {
    expect(
      checkImports([
        {
          path: 'src/modules/booking/fine.ts',
          text: "import { Type } from '@sinclair/typebox';\nimport type { Clock } from '../../platform/clock.js';\nimport { price } from './pricing.js';\nimport type { CouponsService } from '../coupons/index.js';\n",
        },
        {
          path: 'test/http/fine.test.ts',
          text: "import { givenCoupon } from '../../src/modules/coupons/testing.js';\nimport { createContext } from '../../src/context.js';\n",
        },
        {
          path: 'bench/fine.ts',
          text: "import { buildApp } from '../src/app.js';\nimport { newId } from '../src/platform/ids.js';\nimport { createCatalogModule } from '../src/modules/catalog/index.js';\n",
        },
        { path: 'scripts/fine.ts', text: "import { loadConfig } from '../src/config.js';\n" },
      ]),
    ).toEqual([]);
  });
});
