/**
 * Writes the OpenAPI document the app serves at /docs/json to openapi.json, so that review
 * shows contract drift; a test fails when the committed file and the app disagree.
 */
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';

const ctx = await createContext(loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
const app = await buildApp(ctx);
await app.ready();
writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
await ctx.close();
console.log('openapi.json written');
