/**
 * The migrations produce the same schema on PGlite and on Postgres 15: columns
 * (types, nullability, defaults, generated expressions), constraints, indexes,
 * triggers and functions, as information_schema and pg_catalog describe them.
 */
import assert from "node:assert/strict";
import { describeDb } from "../../functions/_shared/db/open.ts";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { openPglite } from "../../functions/_shared/db/pglite.ts";
import { schemaSnapshot, TABLES } from "../../functions/_shared/db/schema.ts";
import { openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");

Deno.test({
  name: `migrate: identical schema on PGlite and [${serviceLabel("postgres", pg)}]`,
  ignore: pg === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lite = await openPglite();
    const server = await openScratchPostgres(pg!.url);
    try {
      await migrate(lite);
      await migrate(server);
      const [a, b] = [await schemaSnapshot(lite), await schemaSnapshot(server)];
      // the comparison is not vacuous: every table is there, with its columns and keys
      for (const t of TABLES) {
        assert.ok(a.columns.some((c) => c.startsWith(`${t}.`)), `${t} has columns`);
      }
      assert.ok(a.constraints.length > 100 && a.indexes.length > 50 && a.triggers.length >= 28);
      for (const part of ["columns", "constraints", "indexes", "triggers", "functions"] as const) {
        assert.deepStrictEqual(
          a[part],
          b[part],
          `${part} differ between ${await describeDb(lite)} and ${await describeDb(server)}`,
        );
      }
    } finally {
      await lite.close();
      await server.close();
    }
  },
});
