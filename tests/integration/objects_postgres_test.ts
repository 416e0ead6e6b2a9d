/**
 * Object association against the real Postgres 15 of scripts/services.sh: several
 * connections (separate pools) racing to associate detections at the same place
 * create exactly one object; racing creations elsewhere get distinct names.
 */
import assert from "node:assert/strict";
import type { Db } from "../../functions/_shared/db/db.ts";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { associateOrCreate } from "../../functions/_shared/db/objects.ts";
import { openPostgres } from "../../functions/_shared/db/postgres.ts";
import { createScratchDatabase } from "../../functions/_shared/db/testing.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");
const label = serviceLabel("postgres", pg);

/** A migrated scratch database and `n` independent pools on it. */
async function withPools(n: number, fn: (dbs: Db[]) => Promise<void>): Promise<void> {
  const scratch = await createScratchDatabase(pg!.url);
  const dbs: Db[] = [];
  try {
    const first = openPostgres({ url: scratch.url, poolSize: 4 });
    dbs.push(first);
    await migrate(first);
    for (let i = 1; i < n; i++) dbs.push(openPostgres({ url: scratch.url, poolSize: 4 }));
    await fn(dbs);
  } finally {
    for (const db of dbs) await db.close();
    await scratch.drop();
  }
}

Deno.test({
  name:
    `associateOrCreate: 48 concurrent detections at one place from 4 pools create one object (${label})`,
  ignore: pg === null,
  fn: () =>
    withPools(4, async (dbs) => {
      for (let round = 0; round < 3; round++) {
        const dec = -20 + round;
        const results = await Promise.all(
          Array.from({ length: 48 }, (_, i) =>
            associateOrCreate(dbs[i % dbs.length], {
              ra: 210.5,
              dec: dec + ((i % 5) - 2) * 0.4 / 3600, // within 0.8" of each other
              mjd: 61100,
              radiusArcsec: 2,
            })),
        );
        assert.equal(new Set(results.map((r) => r.id)).size, 1, `round ${round}`);
        assert.equal(results.filter((r) => r.created).length, 1, `round ${round}`);
      }
      const rows = await dbs[0].query<{ name: string }>("SELECT name FROM objects ORDER BY name");
      assert.deepEqual(rows.map((r) => r.name), ["2026a", "2026b", "2026c"]);
    }),
});

Deno.test({
  name:
    `associateOrCreate: racing detections 3" apart with a 2" radius create two objects (${label})`,
  ignore: pg === null,
  fn: () =>
    withPools(4, async (dbs) => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          associateOrCreate(dbs[i % dbs.length], {
            ra: 45,
            dec: 10 + (i % 2) * 3 / 3600,
            mjd: 61100,
            radiusArcsec: 2,
          })),
      );
      const byPlace = [0, 1].map((k) =>
        new Set(results.filter((_, i) => i % 2 === k).map((r) => r.id))
      );
      assert.equal(byPlace[0].size, 1);
      assert.equal(byPlace[1].size, 1);
      assert.notEqual([...byPlace[0]][0], [...byPlace[1]][0]);
      const rows = await dbs[0].query("SELECT name FROM objects");
      assert.equal(rows.length, 2);
    }),
});

Deno.test({
  name:
    `associateOrCreate: concurrent creations at 60 different places get 60 distinct names (${label})`,
  ignore: pg === null,
  fn: () =>
    withPools(4, async (dbs) => {
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          associateOrCreate(dbs[i % dbs.length], {
            ra: 100 + i * 0.01,
            dec: 5,
            mjd: 61100,
            radiusArcsec: 2,
          })),
      );
      assert.ok(results.every((r) => r.created));
      const names = new Set(results.map((r) => r.name));
      assert.equal(names.size, 60);
      // the counter has no gaps: 2026a .. 2026bh (1..60)
      const rows = await dbs[0].query<{ name: string }>(
        "SELECT name FROM objects ORDER BY length(name), name",
      );
      assert.equal(rows[0].name, "2026a");
      assert.equal(rows[59].name, "2026bh");
    }),
});
