/**
 * Jobs: submitJob + updateJob through a job's life on PGlite, the message
 * format, and the jobs queue name.
 */
import assert from "node:assert/strict";
import { openMigratedPglite } from "../_shared/db/testing.ts";
import { MemoryQueue } from "../_shared/queue/memory_queue.ts";
import { getJob, jobQueueName, parseJobMessage, submitJob, updateJob } from "./jobs.ts";

Deno.test({
  name:
    "updateJob: queued -> running (attempt counted) -> succeeded with a result; failed keeps the error",
  sanitizeResources: false,
  fn: async () => {
    const db = await openMigratedPglite();
    try {
      const queue = new MemoryQueue(`jobs-${crypto.randomUUID()}`);
      const job = await submitJob(db, queue, "reference", {
        ra: 1,
        dec: 2,
        filter: "r",
        refset: "s1",
      });
      assert.equal(job.status, "queued");
      assert.equal(job.attempts, 0);
      const [msg] = await queue.receive();
      const m = parseJobMessage(msg.body);
      assert.equal(m.job_id, job.id);
      assert.equal(m.trace_id, job.traceId);
      const running = await updateJob(db, m.job_id, { status: "running" });
      assert.equal(running!.status, "running");
      assert.equal(running!.attempts, 1);
      assert.ok(running!.startedAt instanceof Date);
      assert.equal(running!.finishedAt, null);
      const done = await updateJob(db, m.job_id, {
        status: "succeeded",
        result: { image_id: "x", ref_id: "y" },
      });
      assert.equal(done!.status, "succeeded");
      assert.deepEqual(done!.result, { image_id: "x", ref_id: "y" });
      assert.ok(done!.finishedAt instanceof Date);
      const again = await getJob(db, job.id);
      assert.deepEqual(again!.request, { ra: 1, dec: 2, filter: "r", refset: "s1" });
      const other = await submitJob(db, queue, "coadd", { ra: 1, dec: 2, filter: "r" });
      const failed = await updateJob(db, other.id, { status: "failed", error: "no images" });
      assert.equal(failed!.error, "no images");
      assert.equal(await updateJob(db, crypto.randomUUID(), { status: "running" }), null);
      // a finished job must have finished_at (CHECK in sql/0005)
      await assert.rejects(
        db.query("UPDATE jobs SET status = 3, finished_at = NULL WHERE id = $1", [
          job.id,
        ]),
      );
    } finally {
      await db.close();
    }
  },
});

Deno.test("parseJobMessage: rejects unknown fields, versions and kinds; jobQueueName", () => {
  const ok = {
    v: 1,
    job_id: crypto.randomUUID(),
    kind: "coadd",
    trace_id: "0123456789abcdef",
    attempt: 1,
  };
  assert.deepEqual(parseJobMessage(JSON.stringify(ok)), ok);
  assert.throws(() => parseJobMessage(JSON.stringify({ ...ok, v: 2 })));
  assert.throws(() => parseJobMessage(JSON.stringify({ ...ok, kind: "subtract" })));
  assert.throws(() => parseJobMessage(JSON.stringify({ ...ok, extra: 1 })));
  assert.throws(() => parseJobMessage("{"));
  assert.equal(jobQueueName("skydiff-steps"), "skydiff-steps-jobs");
});
