import assert from "node:assert/strict";
import type { Db } from "../db/db.ts";
import { AlgorithmError, InputError, NoWorkFound } from "../errors.ts";
import { Logger } from "../log.ts";
import { formatMessage, type StepMessage } from "../message.ts";
import { MemoryQueue } from "../queue/memory_queue.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { dispatch, type Report } from "./dispatch.ts";
import type { Handler } from "./handler.ts";
import { handleSqsBatch } from "./lambda.ts";
import { runWorker } from "./worker.ts";

const message: StepMessage = {
  v: 1,
  step: "extraction",
  exposure_id: "6f1c2a9e-8a51-4c55-9d6b-0a3c7e1d2f40",
  section_id: "N4",
  provenance_tag: "default",
  through_step: "photocal",
  trace_id: "0123456789abcdef",
  attempt: 1,
};

// dispatch never touches db or store itself: handlers do, and these handlers do not
const unused = new Proxy({}, {
  get: () => {
    throw new Error("not used in this test");
  },
});

function setup(handler: Handler) {
  const queue = new MemoryQueue(`q-${crypto.randomUUID()}`, {
    visibilitySeconds: 60,
    maxReceives: 3,
  });
  const reports: Report[] = [];
  const lines: Record<string, unknown>[] = [];
  const options = {
    db: unused as Db,
    store: unused as ObjectStore,
    queue,
    handlers: { extraction: handler },
    config: {},
    log: new Logger({}, "debug", (l) => lines.push(JSON.parse(l))),
    reports: (r: Report) => {
      reports.push(r);
      return Promise.resolve();
    },
    retryDelaySeconds: 0,
  };
  return { queue, reports, lines, options };
}

const ok: Handler = (ctx) =>
  Promise.resolve({
    provenanceId: "A".repeat(20),
    productId: "p1",
    reused: false,
    metrics: { sources: 10 },
    next: [{ ...ctx.message, step: "astrocal" }],
  });

Deno.test("dispatch acknowledges a success, sends the next message and reports it", async () => {
  const { queue, reports, options } = setup(ok);
  await queue.send(formatMessage(message));
  const [received] = await queue.receive();
  assert.equal(await dispatch(received, options), "acked");
  const [next] = await queue.receive();
  assert.equal(JSON.parse(next.body).step, "astrocal");
  assert.equal(await queue.depth(), 1, "only the next message is left");
  assert.equal(reports.length, 1);
  assert.equal(reports[0].outcome, "done");
  assert.deepEqual(reports[0].metrics, { sources: 10 });
});

Deno.test("dispatch acknowledges NoWorkFound and AlgorithmError and records why", async () => {
  for (
    const [err, outcome] of [
      [new NoWorkFound("no reference here"), "no_work"],
      [new AlgorithmError("too few stars", "few_sources"), "bad_data"],
    ] as const
  ) {
    const { queue, reports, options } = setup(() => Promise.reject(err));
    await queue.send(formatMessage(message));
    const [received] = await queue.receive();
    assert.equal(await dispatch(received, options), "acked");
    assert.equal(await queue.depth(), 0);
    assert.equal(reports[0].outcome, outcome);
    assert.match(reports[0].error ?? "", new RegExp(err.message));
    assert.deepEqual(await queue.peekDeadLetters(), []);
  }
});

Deno.test("dispatch dead-letters an InputError and a message for an unknown step", async () => {
  const { queue, reports, lines, options } = setup(() =>
    Promise.reject(new InputError("image has no WEIGHT HDU", { hdu: "WEIGHT" }))
  );
  await queue.send(formatMessage(message));
  await queue.send(formatMessage({ ...message, step: "scoring" }));
  for (const received of await queue.receive({ max: 2 })) {
    assert.equal(await dispatch(received, options), "dead_lettered");
  }
  const dead = await queue.peekDeadLetters();
  assert.equal(dead.length, 2);
  assert.ok(dead.some((d) => /no WEIGHT HDU/.test(d.reason)));
  assert.ok(dead.some((d) => /no handler for step "scoring"/.test(d.reason)));
  assert.deepEqual(reports.map((r) => r.outcome), ["bad_input", "bad_input"]);
  assert.ok(lines.some((l) => (l.fields as Record<string, unknown>)?.hdu === "WEIGHT"));
});

Deno.test("dispatch releases other errors for retry; the queue dead-letters after max receives", async () => {
  let calls = 0;
  const { queue, reports, options } = setup(() => {
    calls++;
    return Promise.reject(new Error("S3 timeout"));
  });
  await queue.send(formatMessage(message));
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [received] = await queue.receive();
    assert.equal(received.receiveCount, attempt);
    assert.equal(await dispatch(received, options), "released");
  }
  assert.deepEqual(await queue.receive(), [], "the fourth reception dead-letters it");
  assert.equal(calls, 3);
  assert.equal((await queue.peekDeadLetters()).length, 1);
  assert.deepEqual(reports.map((r) => r.outcome), ["retry", "retry", "retry"]);
});

Deno.test("dispatch dead-letters a malformed body and logs the bad field", async () => {
  const { queue, lines, options } = setup(ok);
  await queue.send(JSON.stringify({ ...message, section_id: "" }));
  const [received] = await queue.receive();
  assert.equal(await dispatch(received, options), "dead_lettered");
  const line = lines.find((l) => l.level === "error");
  assert.equal((line?.fields as Record<string, unknown>).field, "section_id");
});

Deno.test("runWorker stops when aborted: the message in hand finishes, the rest are released", async () => {
  const controller = new AbortController();
  let handled = 0;
  const { queue, options } = setup((ctx) => {
    handled++;
    controller.abort("SIGTERM");
    return ok(ctx);
  });
  for (let i = 0; i < 3; i++) {
    await queue.send(formatMessage({ ...message, section_id: `N${i + 1}` }));
  }
  const stats = await runWorker({
    ...options,
    signal: controller.signal,
    batchSize: 3,
    waitSeconds: 0,
  });
  assert.equal(handled, 1);
  assert.deepEqual(stats, { acked: 1, dead_lettered: 0, released: 0, failed: 0 });
  const left = await queue.receive({ max: 10 });
  assert.equal(left.length, 3, "two released originals and one next message, all visible at once");
});

Deno.test("handleSqsBatch reports only the records to retry", async () => {
  const { queue, options } = setup((ctx) =>
    ctx.message.section_id === "N2" ? Promise.reject(new Error("transient")) : ok(ctx)
  );
  const record = (id: string, body: string) => ({
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: { ApproximateReceiveCount: "1" },
  });
  const response = await handleSqsBatch({
    Records: [
      record("m1", formatMessage({ ...message, section_id: "N1" })),
      record("m2", formatMessage({ ...message, section_id: "N2" })),
      record("m3", formatMessage({ ...message, section_id: "N3" })),
    ],
  }, options);
  assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: "m2" }]);
  assert.equal(await queue.depth(), 2, "next messages of the two successes were sent");
});

Deno.test("runWorker keeps going when the platform fails mid-dispatch", async () => {
  const { queue, lines, options } = setup(ok);
  let reportCalls = 0;
  const flaky = {
    ...options,
    reports: () => {
      reportCalls++;
      return reportCalls === 1
        ? Promise.reject(new Error("database unreachable"))
        : Promise.resolve();
    },
  };
  await queue.send(formatMessage(message));
  await queue.send(formatMessage({ ...message, section_id: "N5" }));
  const stats = await runWorker({
    ...flaky,
    signal: new AbortController().signal,
    untilEmpty: true,
    waitSeconds: 0,
  });
  assert.equal(stats.failed, 1);
  assert.ok(stats.acked >= 1, "the worker went on to the next message");
  assert.ok(
    lines.some((l) => /dispatch failed: Error: database unreachable/.test(String(l.message))),
  );
});
