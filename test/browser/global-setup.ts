import { buildWebIfStale } from '../../scripts/web-build.js';

/** `npm start` builds the web app first (prestart); so does the browser suite, when the build is missing or stale. */
export default async function setup(): Promise<void> {
  await buildWebIfStale();
}
