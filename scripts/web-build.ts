/**
 * Builds the web app (web/ → web/dist) when it is missing or older than its sources, so that
 * `npm install`, `npm start` and `npm test` always find a current build without a manual step.
 * `--force` builds whatever the dates say.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'web/dist/index.html');

/** Newest modification time of the files the build reads. */
function newestSource(): number {
  const inputs = [
    'web/index.html',
    'web/vite.config.ts',
    'web/src',
    'web/public',
    'src/modules/catalog/availability-codec.ts',
    'openapi.json',
    'package-lock.json',
  ];
  let newest = 0;
  for (const input of inputs) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (!stat.isDirectory()) newest = Math.max(newest, stat.mtimeMs);
    else for (const rel of readdirSync(path, { recursive: true, encoding: 'utf8' })) newest = Math.max(newest, statSync(join(path, rel)).mtimeMs);
  }
  return newest;
}

export async function buildWebIfStale(force = false): Promise<boolean> {
  if (!force && existsSync(built) && statSync(built).mtimeMs >= newestSource()) return false;
  await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn' });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const rebuilt = await buildWebIfStale(process.argv.includes('--force'));
  console.log(rebuilt ? `web app built to web/dist in ${Date.now() - started} ms` : 'web app is up to date (web/dist)');
}
