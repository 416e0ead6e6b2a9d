/**
 * The Db contract on the embedded adapter (PGlite in memory), plus what only
 * PGlite does: a data directory that survives close and reopen.
 */
import assert from "node:assert/strict";
import { dbContract } from "./db_contract.ts";
import { describeDb, openDb } from "./open.ts";
import { openPglite, PgliteDb } from "./pglite.ts";
import { listMigrations, migrate } from "./migrate.ts";
import { openMigratedPglite } from "./testing.ts";

// One PGlite instance for the contract (starting one costs seconds): each test gets
// a Db on it with the public schema dropped and recreated, i.e. an empty database.
// Closing a real instance is tested below (data directory).
const shared = await openPglite();
const label = await describeDb(shared);

dbContract(label, async () => {
  await shared.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  const view = new PgliteDb(shared.pglite, shared.location);
  view.close = () => Promise.resolve();
  return view;
});

Deno.test({
  name: "openPglite: a data directory keeps the database across close and reopen",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "skydiff_pglite_" });
    try {
      const first = await openDb({ dataDir: `${dir}/db` });
      assert.equal(first.kind, "pglite");
      await migrate(first);
      await first.query("INSERT INTO refsets (name, upstream_hash) VALUES ($1, $2)", [
        "survey-v1",
        "f".repeat(20),
      ]);
      await first.close();
      await first.close(); // idempotent
      await assert.rejects(first.query("SELECT 1"));
      const again = await openDb({ dataDir: `${dir}/db` });
      const result = await migrate(again);
      assert.deepStrictEqual(result.applied, [], "already migrated on disk");
      assert.deepStrictEqual(await again.query("SELECT name FROM refsets"), [{
        name: "survey-v1",
      }]);
      await again.close();
      // memory: true ignores the directory
      const mem = await openDb({ dataDir: `${dir}/db`, memory: true });
      const [t] = await mem.query("SELECT to_regclass('refsets')::text AS t");
      assert.equal(t.t, null);
      await mem.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "openMigratedPglite: each call is a migrated database of its own",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const [a, b] = [await openMigratedPglite(), await openMigratedPglite()];
    try {
      const files = (await listMigrations()).map((f) => f.version);
      for (const db of [a, b]) {
        assert.deepStrictEqual((await migrate(db)).alreadyApplied, files);
      }
      await a.query("INSERT INTO refsets (name, upstream_hash) VALUES ('only-in-a', 'h')");
      assert.deepStrictEqual(await b.query("SELECT name FROM refsets"), []);
      assert.deepStrictEqual(await a.query("SELECT name FROM refsets"), [{ name: "only-in-a" }]);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test("openDb: a postgres:// URL selects postgres.js, other URLs are refused", async () => {
  // postgres.js connects lazily: nothing is contacted here
  const pg = await openDb({ url: "postgres://nobody@127.0.0.1:1/none" });
  assert.equal(pg.kind, "postgres");
  assert.equal((pg as { location?: string }).location, "127.0.0.1:1/none");
  await pg.close();
  await assert.rejects(openDb({ url: "mysql://localhost/x" }), /not postgres:\/\//);
});
