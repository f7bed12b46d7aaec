import { defineConfig } from 'drizzle-kit';

// Each module keeps its tables in `<module>.tables.ts`, the platform its event tables (outbox,
// processed events) in src/platform/events/; migrations are generated into drizzle/ and
// committed with the code that needs them.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/modules/*/*.tables.ts', './src/platform/events/*.tables.ts'],
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
});
