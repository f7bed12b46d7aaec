/**
 * The floor servers (bench/floors.ts) as a process of their own, measured the way MOS's `mos api`
 * process is (bench/hotpaths.ts starts both with bench/server-process.ts). Configuration comes
 * from the environment as MOS's does (DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX, JWT_SECRET, …),
 * plus FLOOR_ROOMS: the waiting rooms' `[{ scheduleId, saleOpensAt }]` as JSON. `GET /floor/live`
 * answers once it serves.
 */
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { buildFloors, type FloorRoom } from './floors.js';

const rooms = JSON.parse(process.env.FLOOR_ROOMS ?? '[]') as FloorRoom[];
const ctx = await createContext(loadConfig(), { migrate: false });
const app = await buildFloors(ctx, rooms);
app.get('/floor/live', async () => ({ status: 'ok' }));
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => ctx.close())
      .finally(() => process.exit(0));
  });
}
