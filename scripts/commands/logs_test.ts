import assert from "node:assert/strict";
import { filterLog, LineSplitter, matchesFilter, parseLogsArgs } from "./logs.ts";

const line = (o: Record<string, unknown>) =>
  JSON.stringify({ time: "2026-11-22T03:00:00.000Z", level: "info", message: "m", ...o });

Deno.test("matchesFilter keeps lines by trace, step, level and time", () => {
  const a = line({ trace_id: "t1", step: "extraction", level: "warn" });
  assert.ok(matchesFilter(a, { trace: "t1" }));
  assert.ok(!matchesFilter(a, { trace: "t2" }));
  assert.ok(matchesFilter(a, { step: "extraction", level: "info" }));
  assert.ok(!matchesFilter(a, { level: "error" }));
  assert.ok(matchesFilter(a, { since: new Date("2026-11-22T03:00:00Z") }));
  assert.ok(!matchesFilter(a, { until: new Date("2026-11-22T03:00:00Z") }));
  assert.ok(!matchesFilter(a, { since: new Date("2026-11-22T03:00:01Z") }));
});

Deno.test("matchesFilter passes non-JSON lines only without a filter", () => {
  assert.ok(matchesFilter("plain text", {}));
  assert.ok(!matchesFilter("plain text", { level: "debug" }));
});

Deno.test("LineSplitter joins lines split across chunks", () => {
  const s = new LineSplitter();
  const enc = new TextEncoder();
  assert.deepEqual(s.push(enc.encode("ab")), []);
  assert.deepEqual(s.push(enc.encode("c\nde")), ["abc"]);
  assert.deepEqual(s.push(enc.encode("f\n\n")), ["def"]);
  assert.deepEqual(s.push(enc.encode("tail")), []);
  assert.deepEqual(s.flush(), ["tail"]);
});

Deno.test("parseLogsArgs reads flags and rejects bad ones", () => {
  const p = parseLogsArgs(["--trace", "t", "--level", "WARN", "-f", "x.log"]);
  assert.equal(p.file, "x.log");
  assert.equal(p.follow, true);
  assert.deepEqual(p.filter, { trace: "t", level: "warn" });
  assert.throws(() => parseLogsArgs(["--since", "yesterday", "x"]), /ISO/);
  assert.throws(() => parseLogsArgs(["--bogus", "x"]), /unknown option/);
  assert.throws(() => parseLogsArgs([]), /log file/);
});

Deno.test("filterLog follows a growing file until aborted", async () => {
  const file = await Deno.makeTempFile({ suffix: ".log" });
  await Deno.writeTextFile(file, line({ step: "a" }) + "\n" + line({ step: "b" }) + "\n");
  const got: string[] = [];
  const controller = new AbortController();
  const seen = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
  const done = filterLog(file, { step: "a" }, (l) => {
    got.push(l);
    seen[got.length - 1]?.resolve();
  }, { follow: true, signal: controller.signal });
  // append once the first line has been read, then wait for the follower to see it
  await seen[0].promise;
  await Deno.writeTextFile(file, line({ step: "a", message: "later" }) + "\n", { append: true });
  await seen[1].promise;
  controller.abort();
  await done;
  assert.equal(got.length, 2);
  assert.equal(JSON.parse(got[1]).message, "later");
  await Deno.remove(file);
});
