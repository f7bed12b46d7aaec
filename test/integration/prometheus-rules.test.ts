import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/harness.js';

const rulesFile = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));

function promtool(): string | undefined {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return 'promtool';
  } catch {
    return undefined;
  }
}

/** The shipped alert rules: valid for Prometheus, and about metrics MOS really exports. */
describe('deploy/prometheus/alerts.yml', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('embedded');
  });
  afterAll(() => env.cleanup());

  // .ci/run installs Debian's prometheus package for promtool; elsewhere the check needs it too.
  it.runIf(promtool() !== undefined)('passes promtool check rules', () => {
    expect(execFileSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('names only metrics that MOS registers', async () => {
    const exported = new Set<string>();
    for (const m of await env.ctx.metrics.registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(`${m.name}${suffix}`);
    }
    const used = new Set(readFileSync(rulesFile, 'utf8').match(/\bmos_[a-z_]+/g) ?? []);
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
