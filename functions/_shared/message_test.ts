import assert from "node:assert/strict";
import { InputError } from "./errors.ts";
import { formatMessage, newTraceId, parseMessage, type StepMessage } from "./message.ts";

const good: StepMessage = {
  v: 1,
  step: "extraction",
  exposure_id: "6f1c2a9e-8a51-4c55-9d6b-0a3c7e1d2f40",
  section_id: "N4",
  provenance_tag: "default",
  through_step: "scoring",
  trace_id: "0123456789abcdef",
  attempt: 1,
};

Deno.test("parseMessage round-trips a valid message", () => {
  assert.deepEqual(parseMessage(formatMessage(good)), good);
});

Deno.test("parseMessage names the bad field in an InputError", () => {
  const cases: Array<[unknown, string]> = [
    [{ ...good, step: "launching" }, "step"],
    [{ ...good, exposure_id: "not-a-uuid" }, "exposure_id"],
    [{ ...good, v: 2 }, "v"],
    [{ ...good, attempt: 0 }, "attempt"],
    [{ ...good, pixels: [1, 2] }, "pixels"],
    [{ ...good, trace_id: undefined }, "trace_id"],
  ];
  for (const [body, field] of cases) {
    assert.throws(() => parseMessage(JSON.stringify(body)), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.fields.field, field, `expected field ${field}: ${e.message}`);
      assert.match(e.message, new RegExp(field));
      return true;
    });
  }
});

Deno.test("parseMessage rejects a body that is not JSON", () => {
  assert.throws(
    () => parseMessage("{nope"),
    (e: unknown) => e instanceof InputError && /not JSON/.test(e.message),
  );
});

Deno.test("formatMessage refuses to send an invalid message", () => {
  assert.throws(() => formatMessage({ ...good, attempt: -1 }));
});

Deno.test("newTraceId makes distinct 16-hex ids", () => {
  const a = newTraceId();
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.notEqual(a, newTraceId());
});
