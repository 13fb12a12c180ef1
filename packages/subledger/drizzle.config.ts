import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate` writes a numbered SQL migration for a schema change; commit it. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema/index.ts',
  out: './migrations',
});
