/**
 * The contract every {@linkcode Queue} adapter passes, as Deno tests:
 * `queueContract("memory", open)` registers them. `open` gives a fresh, empty queue
 * per test. With `open === null` the tests are registered as ignored (the label says
 * why). Waiting is done by polling for the condition with short timeouts; nothing
 * sleeps longer than the visibility timeout or delay under test needs.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Queue, Received } from "./queue.ts";

/** A queue opened for one test, with what to do after it. */
export interface QueueHandle {
  queue: Queue;
  /** Closes the queue and removes what the test left. */
  close(): Promise<void>;
}

/** Opens a fresh, uniquely named queue with these settings. */
export type OpenQueue = (options: {
  visibilitySeconds: number;
  maxReceives: number;
}) => Promise<QueueHandle>;

/** Receives until `n` messages came or `timeoutMs` passed, long-polling 1 s at a time. */
export async function receiveAtLeast(
  queue: Queue,
  n: number,
  timeoutMs: number,
  visibilitySeconds?: number,
): Promise<Received[]> {
  const out: Received[] = [];
  const end = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < end) {
    out.push(...await queue.receive({ max: n - out.length, waitSeconds: 1, visibilitySeconds }));
  }
  return out;
}

async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null>,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** Registers the queue contract tests for one adapter. */
export function queueContract(label: string, open: OpenQueue | null): void {
  const test = (
    what: string,
    settings: { visibilitySeconds: number; maxReceives: number },
    fn: (queue: Queue) => Promise<void>,
  ) =>
    Deno.test({
      name: `queue contract [${label}]: ${what}`,
      ignore: open === null,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const handle = await open!(settings);
        try {
          await fn(handle.queue);
        } finally {
          await handle.close();
        }
      },
    });
  // 2 s rather than 1 s where a test asserts "still hidden" right after, so a loaded
  // machine pausing for a second does not fail it; 1 s where only the return matters.
  const short = { visibilitySeconds: 1, maxReceives: 5 };
  const hide = { visibilitySeconds: 2, maxReceives: 5 };
  const long = { visibilitySeconds: 60, maxReceives: 5 };

  test("send, receive and ack deliver each body once", long, async (q) => {
    assert.equal(await q.depth(), 0);
    const bodies = ["a", '{"v":1,"step":"extraction"}', "ünïcode ✓"];
    for (const b of bodies) await q.send(b);
    assert.equal(await q.depth(), 3);
    const got = await receiveAtLeast(q, 3, 10_000);
    assert.deepEqual(got.map((m) => m.body).sort(), [...bodies].sort());
    assert.equal(new Set(got.map((m) => m.id)).size, 3);
    for (const m of got) assert.equal(m.receiveCount, 1);
    assert.deepEqual(await q.receive({ max: 10 }), [], "in flight messages are invisible");
    for (const m of got) await q.ack(m);
    assert.equal(await q.depth(), 0);
    assert.deepEqual(await q.receive({ max: 10, waitSeconds: 1 }), []);
  });

  test("a long-poll returns a message sent while it waits", long, async (q) => {
    const waiting = q.receive({ waitSeconds: 10 });
    await new Promise((r) => setTimeout(r, 200));
    await q.send("late");
    const got = await waiting;
    assert.equal(got.length, 1);
    assert.equal(got[0].body, "late");
  });

  test("an un-acked message comes back after the visibility timeout", hide, async (q) => {
    await q.send("retry me");
    const [first] = await receiveAtLeast(q, 1, 10_000);
    assert.equal(first.receiveCount, 1);
    assert.deepEqual(await q.receive(), [], "invisible right after reception");
    const [again] = await receiveAtLeast(q, 1, 10_000);
    assert.equal(again.id, first.id);
    assert.equal(again.body, "retry me");
    assert.equal(again.receiveCount, 2, "receive count increments");
    await q.ack(again);
    assert.equal(await q.depth(), 0);
  });

  test(
    "release with a delay hides the message for that delay, then it returns",
    long,
    async (q) => {
      await q.send("later");
      const [m] = await receiveAtLeast(q, 1, 10_000);
      await q.release(m, 2);
      assert.deepEqual(await q.receive(), [], "hidden during the delay");
      const [back] = await receiveAtLeast(q, 1, 10_000);
      assert.equal(back.id, m.id);
      assert.equal(back.receiveCount, 2);
      await q.release(back, 0);
      const [now] = await receiveAtLeast(q, 1, 10_000);
      assert.equal(now.receiveCount, 3, "release(0) makes it visible at once");
      await q.ack(now);
    },
  );

  test("send with a delay keeps the message hidden until then", long, async (q) => {
    await q.send("delayed", { delaySeconds: 2 });
    assert.deepEqual(await q.receive(), [], "hidden during the delay");
    const [m] = await receiveAtLeast(q, 1, 10_000);
    assert.equal(m.body, "delayed");
    assert.equal(m.receiveCount, 1);
    await q.ack(m);
  });

  test("after maxReceives receptions a message goes to the dead-letter queue", {
    visibilitySeconds: 60,
    maxReceives: 2,
  }, async (q) => {
    await q.send("poison");
    for (let i = 1; i <= 2; i++) {
      const [m] = await receiveAtLeast(q, 1, 10_000);
      assert.equal(m.body, "poison");
      assert.equal(m.receiveCount, i);
      await q.release(m, 0);
    }
    // The third receive finds it over the limit: it is moved, not delivered.
    assert.deepEqual(await q.receive({ waitSeconds: 1 }), []);
    const dead = await eventually("the dead letter", 10_000, async () => {
      const d = await q.peekDeadLetters(10);
      return d.length > 0 ? d : (await q.receive({ waitSeconds: 1 }), null);
    });
    assert.equal(dead.length, 1);
    assert.equal(dead[0].body, "poison");
    assert.equal(await q.depth(), 0);
    // Peeking does not remove.
    assert.equal((await q.peekDeadLetters(10)).length, 1);
  });

  test("deadLetter moves a message at once, with its reason visible", long, async (q) => {
    await q.send('{"v":1,"step":"nope"}');
    await q.send("fine");
    const got = await receiveAtLeast(q, 2, 10_000);
    const bad = got.find((m) => m.body.startsWith("{"))!;
    await q.deadLetter(bad, "InputError: step: invalid enum value 'nope'");
    const dead = await q.peekDeadLetters(10);
    assert.deepEqual(dead.map((d) => [d.body, d.reason]), [[
      '{"v":1,"step":"nope"}',
      "InputError: step: invalid enum value 'nope'",
    ]]);
    assert.equal(await q.depth(), 1);
    await q.ack(got.find((m) => m !== bad)!);
    assert.equal(await q.depth(), 0);
  });

  test("two concurrent receivers never get the same message while invisible", long, async (q) => {
    const n = 40;
    for (let i = 0; i < n; i++) await q.send(`m${i}`);
    const deliveries: string[] = [];
    const bodies = new Set<string>();
    const end = Date.now() + 30_000;
    const receiver = async () => {
      while (bodies.size < n && Date.now() < end) {
        const got = await q.receive({ max: 3, waitSeconds: 1 });
        for (const m of got) {
          deliveries.push(m.id);
          bodies.add(m.body);
          await q.ack(m);
        }
      }
    };
    await Promise.all([receiver(), receiver()]);
    assert.equal(bodies.size, n, "every message delivered");
    assert.equal(deliveries.length, n, "no message delivered twice");
    assert.equal(new Set(deliveries).size, n);
    assert.equal(await q.depth(), 0);
  });

  test("a stale receipt cannot ack a redelivered message", short, async (q) => {
    await q.send("contested");
    const [first] = await receiveAtLeast(q, 1, 10_000);
    const [second] = await receiveAtLeast(q, 1, 10_000);
    assert.equal(second.id, first.id);
    assert.equal(second.receiveCount, 2);
    // The first receiver wakes up late and acks with its old receipt.
    await q.ack(first).catch(() => {});
    // The message must still be there: the current receipt can release it and it returns.
    await q.release(second, 0);
    const [third] = await receiveAtLeast(q, 1, 10_000);
    assert.equal(third.id, first.id);
    assert.equal(third.receiveCount, 3);
    await q.ack(third);
    assert.equal(await q.depth(), 0);
  });
}
