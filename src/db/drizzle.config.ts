import { defineConfig } from "drizzle-kit";

// Migrations are flat `migrations/NNNN_name.sql` files: wrangler applies them locally and remotely,
// the tests apply them with applyD1Migrations.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
  migrations: { prefix: "index" },
});
