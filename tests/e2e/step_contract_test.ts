/**
 * The step contract end to end with the headersummary step, on the embedded
 * defaults (PGlite + a directory + the in-process queue) and on the real servers
 * (Postgres 15 + MinIO + the Postgres queue; Postgres 15 + MinIO + ElasticMQ):
 *
 * - a raw exposure ingested and worked through the queue yields one product, one
 *   report, and the product's object in the store;
 * - the same message delivered twice yields one product row;
 * - a malformed message ends in the dead-letter queue and the log line names the
 *   bad field; a message naming a missing exposure too.
 */
import assert from "node:assert/strict";
import type { Db } from "../../functions/_shared/db/db.ts";
import { reportSink } from "../../functions/_shared/db/reports.ts";
import { Header } from "../../functions/_shared/fits/header.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { formatMessage } from "../../functions/_shared/message.ts";
import type { Queue } from "../../functions/_shared/queue/queue.ts";
import { runWorker } from "../../functions/_shared/runtime/worker.ts";
import { ConfigSchema } from "../../functions/config.ts";
import { HANDLERS } from "../../functions/steps.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import {
  embeddedEnv,
  serverEnv,
  serverLabel,
  type TestEnv,
  type TestEnvFactory,
} from "./_environments.ts";

type Env = TestEnv;

const QUEUE_OPTIONS = { prefix: "steps", visibilitySeconds: 30, maxReceives: 3 };
const HEADERSUMMARY = { firstStep: "headersummary" } as const;

const environments: Array<[string, TestEnvFactory | null]> = [
  ["embedded: pglite + fs + memory queue", embeddedEnv(QUEUE_OPTIONS)],
  [serverLabel("postgres"), serverEnv(QUEUE_OPTIONS, "postgres")],
  [serverLabel("sqs"), serverEnv(QUEUE_OPTIONS, "sqs")],
];

function rawExposure(): Uint8Array {
  const primary = new Header()
    .set("INSTRUME", "SimCam")
    .set("TELESCOP", "SimScope")
    .set("FILTER", "g")
    .set("EXPTIME", 30)
    .set("MJD-OBS", 61000.5)
    .set("RA", 150.25)
    .set("DEC", 2.5);
  const ccd = new Float32Array(64 * 32).map((_, i) => i % 97);
  return writeFits([
    { header: primary },
    { name: "N1", data: ccd, axes: [64, 32] },
    { name: "N2", data: ccd, axes: [64, 32] },
  ]);
}

async function work(env: Env, lines: string[] = []) {
  const log = new Logger({}, "debug", (line) => lines.push(line));
  return await runWorker({
    ...env,
    handlers: HANDLERS,
    config: ConfigSchema.parse({}),
    log,
    reports: reportSink(env.db),
    signal: new AbortController().signal,
    untilEmpty: true,
    retryDelaySeconds: 0,
  });
}

async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return row.n;
}

async function waitForDeadLetters(queue: Queue, n: number) {
  // SQS moves messages asynchronously: poll (bounded) until they show up
  for (let i = 0; i < 50; i++) {
    const dead = await queue.peekDeadLetters(10);
    if (dead.length >= n) return dead;
    await new Promise((r) => setTimeout(r, 100));
  }
  return await queue.peekDeadLetters(10);
}

for (const [name, factory] of environments) {
  const ignore = factory === null;
  const label = ignore ? `${name} (ignored: servers not running)` : name;

  Deno.test({
    name: `headersummary step [${label}]: ingest, work the queue, one product + report`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const env = await factory!();
      try {
        await env.store.put("raw/exp1.fits", rawExposure());
        const ingest = await ingestObject(env, "raw/exp1.fits", HEADERSUMMARY);
        assert.equal(ingest.created, true);
        const again = await ingestObject(env, "raw/exp1.fits", HEADERSUMMARY);
        assert.equal(again.exposureId, ingest.exposureId, "a repeated event is harmless");
        const stats = await work(env);
        assert.equal(stats.dead_lettered, 0);
        const rows = await env.db.query<
          {
            summary: { imageCount: number; values: Record<string, unknown> };
            filepath: string;
            md5: string;
          }
        >(
          "SELECT summary, filepath, md5 FROM header_summaries WHERE exposure_id = $1",
          [ingest.exposureId],
        );
        assert.equal(rows.length, 1);
        assert.equal(rows[0].summary.imageCount, 2);
        assert.equal(rows[0].summary.values.FILTER, "g");
        const stored = await env.store.head(rows[0].filepath);
        assert.equal(stored?.md5, rows[0].md5, "the row's md5 is the stored object's");
        assert.equal(
          await count(env.db, "reports WHERE exposure_id = $1 AND status = 2", [ingest.exposureId]),
          1,
        );
        // a repeated event after the work is done queues nothing
        assert.deepEqual((await ingestObject(env, "raw/exp1.fits", HEADERSUMMARY)).messages, []);
      } finally {
        await env.close();
      }
    },
  });

  Deno.test({
    name: `headersummary step [${label}]: the same message delivered twice yields one product row`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const env = await factory!();
      try {
        await env.store.put("raw/exp2.fits", rawExposure());
        const { messages } = await ingestObject(env, "raw/exp2.fits", HEADERSUMMARY);
        await env.queue.send(formatMessage(messages[0]));
        const lines: string[] = [];
        const stats = await work(env, lines);
        assert.equal(stats.acked, 2, "both deliveries are acknowledged");
        assert.equal(await count(env.db, "header_summaries"), 1);
        assert.equal(await count(env.db, "provenances WHERE process = 15"), 1);
        assert.ok(lines.some((l) => JSON.parse(l).message === "step product already existed"));
      } finally {
        await env.close();
      }
    },
  });

  Deno.test({
    name:
      `dispatch [${label}]: a malformed message is dead-lettered and the log names the bad field`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const env = await factory!();
      try {
        const bad = JSON.stringify({
          v: 1,
          step: "headersummary",
          exposure_id: "not-a-uuid",
          provenance_tag: "default",
          trace_id: "0123456789abcdef",
          attempt: 1,
        });
        await env.queue.send(bad);
        const missing = formatMessage({
          v: 1,
          step: "headersummary",
          exposure_id: crypto.randomUUID(),
          provenance_tag: "default",
          trace_id: "fedcba9876543210",
          attempt: 1,
        });
        await env.queue.send(missing);
        const lines: string[] = [];
        const stats = await work(env, lines);
        assert.equal(stats.dead_lettered, 2);
        const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
        const malformed = errors.find((l) => l.message.startsWith("malformed message"));
        assert.equal(malformed?.fields?.field, "exposure_id");
        assert.match(malformed?.message, /exposure_id/);
        const inputError = errors.find((l) => l.trace_id === "fedcba9876543210");
        assert.match(inputError?.message, /does not exist/);
        const dead = await waitForDeadLetters(env.queue, 2);
        assert.deepEqual(dead.map((d) => d.body).sort(), [bad, missing].sort());
        assert.equal(await count(env.db, "header_summaries"), 0, "nothing half-written");
      } finally {
        await env.close();
      }
    },
  });
}

Deno.test({
  name:
    "executeStep [embedded]: new parameters under a tag in use are dead-lettered, naming the tag",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = await environments[0][1]!();
    try {
      await env.store.put("raw/exp3.fits", rawExposure());
      const { messages } = await ingestObject(env, "raw/exp3.fits", HEADERSUMMARY);
      await work(env);
      // the same exposure again, with other critical parameters, under the same tag
      await env.queue.send(formatMessage({ ...messages[0], trace_id: "1111222233334444" }));
      const lines: string[] = [];
      const stats = await runWorker({
        ...env,
        handlers: HANDLERS,
        config: ConfigSchema.parse({ headersummary: { keywords: ["EXPTIME"] } }),
        log: new Logger({}, "debug", (line) => lines.push(line)),
        reports: reportSink(env.db),
        signal: new AbortController().signal,
        untilEmpty: true,
      });
      assert.equal(stats.dead_lettered, 1);
      const [dead] = await env.queue.peekDeadLetters();
      assert.match(dead.reason, /provenance tag "default" already holds headersummary provenance/);
      assert.equal(await count(env.db, "header_summaries"), 1);
    } finally {
      await env.close();
    }
  },
});
