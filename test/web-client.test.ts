import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe("the web app's API client", () => {
  it('is generated from the committed openapi.json (npm run web:api), never edited by hand', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mos-web-api-'));
    try {
      const out = join(dir, 'schema.d.ts');
      execFileSync(process.execPath, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.json', '--output', out], { cwd: root, stdio: 'pipe' });
      expect(readFileSync(join(root, 'web/src/api/schema.d.ts'), 'utf8'), 'web/src/api/schema.d.ts is stale: run npm run web:api').toBe(
        readFileSync(out, 'utf8'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
