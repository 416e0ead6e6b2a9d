import assert from "node:assert/strict";
import { ManualClock } from "./clock.ts";
import { MemoryBroker, MemoryQueue } from "./memory_queue.ts";
import { queueContract } from "./queue_contract.ts";

queueContract("memory in-process", (options) => {
  const queue = new MemoryQueue(`contract-${crypto.randomUUID()}`, options);
  return Promise.resolve({ queue, close: () => queue.close() });
});

Deno.test("MemoryQueue.receive hides a message for the visibility timeout of the clock", async () => {
  const clock = new ManualClock(1_000_000);
  const q = new MemoryQueue("vis", { visibilitySeconds: 30, clock });
  await q.send("x");
  const [m] = await q.receive();
  assert.equal(m.receiveCount, 1);
  await clock.advance(29_999);
  assert.deepEqual(await q.receive(), []);
  await clock.advance(1);
  const [again] = await q.receive();
  assert.equal(again.id, m.id);
  assert.equal(again.receiveCount, 2);
  assert.equal(again.receipt, `${m.id}:2`);
});

Deno.test("MemoryQueue.send with delay and release with delay follow the clock", async () => {
  const clock = new ManualClock();
  const q = new MemoryQueue("delay", { clock });
  await q.send("d", { delaySeconds: 10 });
  await clock.advance(9_999);
  assert.deepEqual(await q.receive(), []);
  await clock.advance(1);
  const [m] = await q.receive();
  await q.release(m, 5);
  await clock.advance(4_999);
  assert.deepEqual(await q.receive(), []);
  await clock.advance(1);
  assert.equal((await q.receive())[0].receiveCount, 2);
});

Deno.test("MemoryQueue.receive moves a message past maxReceives to the dead letters with why", async () => {
  const clock = new ManualClock();
  const q = new MemoryQueue("dlq", { visibilitySeconds: 1, maxReceives: 3, clock });
  await q.send("poison");
  for (let i = 1; i <= 3; i++) {
    const [m] = await q.receive();
    assert.equal(m.receiveCount, i);
    await clock.advance(1_000);
  }
  assert.deepEqual(await q.receive(), []);
  const dead = await q.peekDeadLetters();
  assert.equal(dead.length, 1);
  assert.equal(dead[0].body, "poison");
  assert.equal(dead[0].reason, "received 3 times (maxReceives 3)");
  assert.equal(await q.depth(), 0);
});

Deno.test("MemoryQueue.receive long-polls on the clock and wakes on send", async () => {
  const clock = new ManualClock();
  const q = new MemoryQueue("poll", { clock });
  const empty = q.receive({ waitSeconds: 20 });
  await clock.advance(0);
  assert.equal(clock.sleeping, 1, "the long-poll is waiting");
  await clock.advance(20_000);
  assert.deepEqual(await empty, []);
  assert.equal(clock.sleeping, 0);
  const waiting = q.receive({ waitSeconds: 20 });
  await clock.advance(5_000);
  await q.send("hello");
  const got = await waiting;
  assert.equal(got[0].body, "hello");
  assert.equal(clock.sleeping, 0, "no sleep left behind");
  // A delayed message wakes the poll when it becomes visible, not at the deadline.
  await q.send("soon", { delaySeconds: 3 });
  const later = q.receive({ waitSeconds: 20 });
  await clock.advance(3_000);
  assert.equal((await later)[0].body, "soon");
});

Deno.test("MemoryQueue.close ends a pending long-poll", async () => {
  const q = new MemoryQueue("close", { clock: new ManualClock() });
  const waiting = q.receive({ waitSeconds: 20 });
  await q.close();
  assert.deepEqual(await waiting, []);
});

Deno.test("MemoryBroker.queue shares one queue per name", async () => {
  const broker = new MemoryBroker();
  const a = broker.queue("steps");
  await a.send("x");
  assert.equal(broker.queue("steps"), a);
  assert.equal(await broker.queue("steps").depth(), 1);
  assert.equal(await broker.queue("other").depth(), 0);
});
