import assert from "node:assert/strict";
import type { Db } from "../db/db.ts";
import { openPglite } from "../db/pglite.ts";
import { migrate } from "../db/migrate.ts";
import { PostgresQueue } from "./postgres_queue.ts";
import { queueContract } from "./queue_contract.ts";

// One embedded database for the file (every test uses its own queue name).
let shared: Promise<Db> | null = null;
function database(): Promise<Db> {
  shared ??= (async () => {
    const db = await openPglite();
    await migrate(db);
    return db;
  })();
  return shared;
}
globalThis.addEventListener("unload", () => {
  shared?.then((db) => db.close());
});

queueContract("postgres pglite in-process", async (options) => {
  const db = await database();
  const queue = new PostgresQueue(db, `contract-${crypto.randomUUID()}`, options);
  return {
    queue,
    close: async () => {
      await queue.close();
      await db.query("DELETE FROM queue_messages WHERE queue = $1", [queue.name]);
    },
  };
});

Deno.test("PostgresQueue.receive dead-letters on the receive after maxReceives, with why", async () => {
  const db = await database();
  const q = new PostgresQueue(db, `dlq-${crypto.randomUUID()}`, { maxReceives: 1 });
  await q.send("once");
  const [m] = await q.receive();
  assert.equal(m.receipt, `${m.id}:1`);
  await q.release(m, 0);
  assert.deepEqual(await q.receive(), []);
  const [row] = await db.query<{ dead: boolean; dead_reason: string; receive_count: number }>(
    "SELECT dead, dead_reason, receive_count FROM queue_messages WHERE id = $1",
    [m.id],
  );
  assert.deepEqual(row, {
    dead: true,
    dead_reason: "received 1 times (maxReceives 1)",
    receive_count: 1,
  });
  assert.deepEqual(await q.peekDeadLetters(), [{
    id: m.id,
    body: "once",
    reason: "received 1 times (maxReceives 1)",
  }]);
});

Deno.test("PostgresQueue keeps queues of different names apart", async () => {
  const db = await database();
  const a = new PostgresQueue(db, `a-${crypto.randomUUID()}`);
  const b = new PostgresQueue(db, `b-${crypto.randomUUID()}`);
  await a.send("for a");
  assert.deepEqual(await b.receive(), []);
  assert.equal(await b.depth(), 0);
  assert.equal((await a.receive())[0].body, "for a");
});

Deno.test("PostgresQueue.receive with max > 1 skips over rows that just went dead", async () => {
  const db = await database();
  const q = new PostgresQueue(db, `mix-${crypto.randomUUID()}`, { maxReceives: 1 });
  await q.send("p");
  const [p] = await q.receive();
  await q.release(p, 0);
  await q.send("ok1");
  await q.send("ok2");
  const got = await q.receive({ max: 2 });
  assert.deepEqual(got.map((m) => m.body).sort(), ["ok1", "ok2"]);
  assert.equal((await q.peekDeadLetters()).length, 1);
});
