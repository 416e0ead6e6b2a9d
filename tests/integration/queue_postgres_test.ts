/**
 * The queue contract on the Postgres queue against the real Postgres 15 that
 * scripts/services.sh started. Each run migrates a fresh database and drops it after.
 */
import assert from "node:assert/strict";
import type { Db } from "../../functions/_shared/db/db.ts";
import { openPostgres } from "../../functions/_shared/db/postgres.ts";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { PostgresQueue } from "../../functions/_shared/queue/postgres_queue.ts";
import { queueContract } from "../../functions/_shared/queue/queue_contract.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");

let shared: Promise<{ db: Db; drop: () => Promise<void> }> | null = null;
function database(): Promise<{ db: Db; drop: () => Promise<void> }> {
  shared ??= (async () => {
    const name = `skydiff_queue_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = openPostgres({ url: pg!.url, poolSize: 1 });
    await admin.exec(`CREATE DATABASE ${name}`);
    const url = new URL(pg!.url);
    url.pathname = `/${name}`;
    const db = openPostgres({ url: url.toString(), poolSize: 8 });
    await migrate(db);
    const drop = async () => {
      await db.close();
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    };
    return { db, drop };
  })();
  return shared;
}
queueContract(
  serviceLabel("postgres", pg),
  pg && (async (options) => {
    const { db } = await database();
    const queue = new PostgresQueue(db, `contract-${crypto.randomUUID()}`, options);
    return { queue, close: () => queue.close() };
  }),
);

Deno.test({
  name: `PostgresQueue.receive [${
    serviceLabel("postgres", pg)
  }]: six receivers on a pool share 300 messages, each once`,
  ignore: !pg,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { db } = await database();
    const q = new PostgresQueue(db, `many-${crypto.randomUUID()}`, { visibilitySeconds: 60 });
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => q.send(`m${i}`)));
    const ids: string[] = [];
    const bodies = new Set<string>();
    const receiver = async () => {
      while (true) {
        const got = await q.receive({ max: 7 });
        if (got.length === 0) return;
        for (const m of got) {
          ids.push(m.id);
          bodies.add(m.body);
        }
        await Promise.all(got.map((m) => q.ack(m)));
      }
    };
    await Promise.all(Array.from({ length: 6 }, receiver));
    assert.equal(bodies.size, n);
    assert.equal(ids.length, n, "a message was delivered twice");
    assert.equal(await q.depth(), 0);
  },
});

// Last test of the file: drop the scratch database.
Deno.test({
  name: `queue contract [${serviceLabel("postgres", pg)}]: drop the scratch database`,
  ignore: !pg,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (shared) await (await shared).drop();
  },
});
