import assert from "node:assert/strict";
import type { Db } from "../db/db.ts";
import { ManualClock } from "./clock.ts";
import { MemoryQueue } from "./memory_queue.ts";
import { PostgresQueue } from "./postgres_queue.ts";
import { openQueue } from "./open.ts";

Deno.test("openQueue shares in-process queues by name, with the configured settings", async () => {
  const name = `open-${crypto.randomUUID()}`;
  const clock = new ManualClock();
  const a = await openQueue({ kind: "memory", visibilitySeconds: 7, maxReceives: 2 }, name, {
    clock,
  });
  assert.ok(a instanceof MemoryQueue);
  assert.equal(a.visibilitySeconds, 7);
  assert.equal(a.maxReceives, 2);
  await a.send("hello");
  const b = await openQueue({ kind: "memory" }, name);
  assert.equal((await b.receive())[0].body, "hello");
});

Deno.test("openQueue gives the Postgres queue the caller's Db and default settings", async () => {
  const db = { kind: "pglite" } as unknown as Db;
  const q = await openQueue({ kind: "postgres" }, "steps", { db });
  assert.ok(q instanceof PostgresQueue);
  assert.equal(q.visibilitySeconds, 300);
  assert.equal(q.maxReceives, 5);
  await assert.rejects(openQueue({ kind: "postgres" }, "steps"), /needs a Db/);
});

Deno.test("openQueue refuses unknown kinds and keys", async () => {
  // deno-lint-ignore no-explicit-any
  const bad: any[] = [
    { kind: "kafka" },
    { kind: "memory", endpoint: "http://x" },
    { kind: "sqs", maxReceives: 0 },
  ];
  for (const config of bad) await assert.rejects(openQueue(config, "q"), JSON.stringify(config));
});
