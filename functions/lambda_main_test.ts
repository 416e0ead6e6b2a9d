import assert from "node:assert/strict";
import { openMigratedPglite } from "./_shared/db/testing.ts";
import { reportSink } from "./_shared/db/reports.ts";
import { ConfigError, InputError } from "./_shared/errors.ts";
import { Header } from "./_shared/fits/header.ts";
import { writeFits } from "./_shared/fits/writer.ts";
import { Logger } from "./_shared/log.ts";
import type { StepMessage } from "./_shared/message.ts";
import { MemoryQueue } from "./_shared/queue/memory_queue.ts";
import type { Received } from "./_shared/queue/queue.ts";
import type { SqsEvent } from "./_shared/runtime/lambda.ts";
import type { LambdaContext } from "./_shared/runtime/lambda_runtime.ts";
import { FsObjectStore } from "./_shared/storage/fs_store.ts";
import { type Config, ConfigSchema } from "./config.ts";
import {
  eventShape,
  fetchSecret,
  type IngestedObject,
  lambdaHandler,
  logicalKey,
  overridesFromEnv,
  postgresUrlFromSecret,
  prefixRoutedStore,
  UnknownEventError,
} from "./lambda_main.ts";

function rawExposure(ra: number): Uint8Array {
  const primary = new Header()
    .set("INSTRUME", "SimCam")
    .set("TELESCOP", "SimScope")
    .set("FILTER", "r")
    .set("EXPTIME", 45)
    .set("MJD-OBS", 61001.25)
    .set("RA", ra)
    .set("DEC", -12.5);
  const ccd = new Float32Array(32 * 16).map((_, i) => i % 13);
  return writeFits([{ header: primary }, { name: "S1", data: ccd, axes: [32, 16] }]);
}

/** An S3 ObjectCreated event as S3 sends it (keys URL-encoded, spaces as '+'). */
export function s3Event(bucket: string, keys: string[]) {
  return {
    Records: keys.map((key) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventName: "ObjectCreated:Put",
      s3: {
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+") },
      },
    })),
  };
}

/** An SQS event carrying received messages, as the event source mapping builds it. */
export function sqsEvent(messages: Received[]): SqsEvent & { Records: { eventSource: string }[] } {
  return {
    Records: messages.map((m) => ({
      messageId: m.id,
      receiptHandle: m.receipt,
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.receiveCount) },
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:skydiff-steps",
    })),
  };
}

function context(log: Logger): LambdaContext {
  return {
    awsRequestId: crypto.randomUUID(),
    deadlineMs: Date.now() + 60_000,
    invokedFunctionArn: "",
    getRemainingTimeInMillis: () => 60_000,
    log,
  };
}

Deno.test("eventShape tells SQS, S3 and anything else apart", () => {
  assert.equal(
    eventShape(sqsEvent([{ id: "1", body: "{}", receipt: "r", receiveCount: 1 }])),
    "sqs",
  );
  assert.equal(eventShape(s3Event("raw", ["a.fits"])), "s3");
  assert.equal(
    eventShape({ Records: [{ eventSource: "aws:sqs" }, { eventSource: "aws:s3" }] }),
    "unknown",
  );
  assert.equal(eventShape({ Records: [] }), "unknown");
  assert.equal(eventShape({ routeKey: "GET /", rawPath: "/" }), "unknown");
  assert.equal(eventShape(null), "unknown");
  assert.equal(eventShape("text"), "unknown");
});

Deno.test("logicalKey: the raw bucket's objects are raw/ keys; another bucket is an InputError", () => {
  const buckets = { raw: "sky-raw", products: "sky-products" };
  assert.equal(logicalKey("sky-raw", "2026/11/c4d.fits.fz", buckets), "raw/2026/11/c4d.fits.fz");
  assert.equal(logicalKey("sky-products", "raw/x.fits", buckets), "raw/x.fits");
  assert.equal(logicalKey("anything", "raw/x.fits", {}), "raw/x.fits");
  assert.throws(() => logicalKey("elsewhere", "x.fits", buckets), InputError);
});

Deno.test("prefixRoutedStore keeps raw/ keys in the routed store and lists both in order", async () => {
  const rootA = await Deno.makeTempDir();
  const rootB = await Deno.makeTempDir();
  try {
    const products = new FsObjectStore({ root: rootA });
    const raw = new FsObjectStore({ root: rootB });
    const store = prefixRoutedStore(products, "raw/", raw);
    const bytes = new TextEncoder().encode("raw exposure bytes");
    const info = await store.put("raw/night1/e1.fits", bytes);
    assert.equal(info.key, "raw/night1/e1.fits");
    assert.ok(await raw.head("night1/e1.fits"), "stored in the raw store without the prefix");
    assert.equal(await products.head("raw/night1/e1.fits"), null);
    await store.put("images/a.fits", new Uint8Array([1, 2, 3]));
    await store.put("zz/last.json", new Uint8Array([4]));
    assert.ok(await products.head("images/a.fits"));
    assert.deepEqual(
      await store.get("raw/night1/e1.fits", { range: { offset: 4, length: 8 } }),
      bytes.slice(4, 12),
    );
    assert.equal((await store.head("raw/night1/e1.fits"))?.size, bytes.length);
    const all: string[] = [];
    for await (const k of store.list("")) all.push(k);
    assert.deepEqual(all, ["images/a.fits", "raw/night1/e1.fits", "zz/last.json"]);
    const rawOnly: string[] = [];
    for await (const k of store.list("raw/night")) rawOnly.push(k);
    assert.deepEqual(rawOnly, ["raw/night1/e1.fits"]);
    await store.delete("raw/night1/e1.fits");
    assert.equal(await raw.head("night1/e1.fits"), null);
  } finally {
    await Deno.remove(rootA, { recursive: true });
    await Deno.remove(rootB, { recursive: true });
  }
});

Deno.test("fetchSecret reads the Parameters and Secrets extension with the session token", async () => {
  const seen: { id: string | null; token: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const id = url.searchParams.get("secretId");
    seen.push({ id, token: req.headers.get("X-Aws-Parameters-Secrets-Token") });
    if (url.pathname !== "/secretsmanager/get") return new Response("no", { status: 404 });
    if (id === "denied") return new Response("AccessDenied", { status: 400 });
    return Response.json({ Name: "db", SecretString: '{"username":"u"}' });
  });
  const env = {
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(server.addr.port),
    AWS_SESSION_TOKEN: "token-123",
  };
  try {
    const arn = "arn:aws:secretsmanager:us-east-1:1:secret:db/creds-AbCd";
    assert.equal(await fetchSecret(arn, { env }), '{"username":"u"}');
    assert.deepEqual(seen[0], { id: arn, token: "token-123" });
    await assert.rejects(fetchSecret("denied", { env, pauseMs: 1 }), ConfigError);
    assert.equal(seen.length, 2, "a 4xx answer is not retried");
  } finally {
    await server.shutdown();
  }
});

Deno.test("postgresUrlFromSecret and overridesFromEnv build db.url from the RDS secret", async () => {
  const secret = JSON.stringify({
    engine: "postgres",
    username: "sky admin",
    password: "p@ss:w/rd?",
    host: "db.abc.us-east-1.rds.amazonaws.com",
    port: 5432,
    dbname: "skydiff",
  });
  const url = postgresUrlFromSecret(secret);
  const parsed = new URL(url);
  assert.equal(decodeURIComponent(parsed.username), "sky admin");
  assert.equal(decodeURIComponent(parsed.password), "p@ss:w/rd?");
  assert.equal(parsed.hostname, "db.abc.us-east-1.rds.amazonaws.com");
  assert.equal(parsed.port, "5432");
  assert.equal(parsed.pathname, "/skydiff");
  assert.equal(parsed.searchParams.get("sslmode"), "require");
  assert.throws(() => postgresUrlFromSecret('{"username":"u"}'), ConfigError);

  const overrides = await overridesFromEnv({
    SKYDIFF_CONFIG_OVERRIDES: JSON.stringify({ db: { pool_size: 2 }, queue: { kind: "sqs" } }),
    SKYDIFF_DB_SECRET_ARN: "arn:secret",
  }, (id) => Promise.resolve(id === "arn:secret" ? secret : "{}"));
  assert.deepEqual(overrides, { db: { pool_size: 2, url }, queue: { kind: "sqs" } });
  await assert.rejects(overridesFromEnv({ SKYDIFF_CONFIG_OVERRIDES: "{not json" }), ConfigError);
});

Deno.test("lambdaHandler ingests S3 events and runs SQS batches with partial failures", async () => {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir();
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({}, "info", (l) => lines.push(JSON.parse(l)));
  try {
    const store = new FsObjectStore({ root });
    const queue = new MemoryQueue(`steps-${crypto.randomUUID()}`, {
      visibilitySeconds: 60,
      maxReceives: 3,
    });
    const config = ConfigSchema.parse({
      pipeline: { first_step: "headersummary", through_step: "headersummary" },
      queue: { retry_delay_seconds: 0 },
    }) as Config;
    const handler = lambdaHandler({ db, store, queue, config, log, reports: reportSink(db) });
    await store.put("raw/good one.fits", rawExposure(10.5));
    await store.put("raw/lost.fits", rawExposure(20.5));

    const ingest = await handler(
      s3Event("local", ["raw/good one.fits", "raw/lost.fits"]),
      context(log),
    ) as {
      ingested: IngestedObject[];
    };
    assert.deepEqual(ingest.ingested.map((i) => [i.key, i.created, i.queued]), [
      ["raw/good one.fits", true, ["headersummary"]],
      ["raw/lost.fits", true, ["headersummary"]],
    ]);
    // the raw file of the second exposure disappears before its step runs: a retryable failure
    await store.delete("raw/lost.fits");
    const lostId = ingest.ingested[1].exposure_id;

    await queue.send("{this is not a message");
    const received = await queue.receive({ max: 10 });
    assert.equal(received.length, 3);
    const idOf = (pred: (m: StepMessage | null) => boolean) =>
      received.find((r) => {
        try {
          return pred(JSON.parse(r.body));
        } catch {
          return pred(null);
        }
      })!.id;
    const response = await handler(sqsEvent(received), context(log));
    assert.deepEqual(response, {
      batchItemFailures: [{ itemIdentifier: idOf((m) => m?.exposure_id === lostId) }],
    });

    // the failed record is visible again after retry_delay_seconds (0 here), not the 60 s visibility
    const retried = await queue.receive({ max: 10 });
    assert.deepEqual(retried.map((r) => [r.id, r.receiveCount]), [[
      idOf((m) => m?.exposure_id === lostId),
      2,
    ]]);
    const dead = await queue.peekDeadLetters();
    assert.deepEqual(
      dead.map((d) => d.id),
      [idOf((m) => m === null)],
      "the malformed one is dead-lettered",
    );
    const rows = await db.query<{ exposure_id: string }>(
      "SELECT exposure_id FROM header_summaries",
    );
    assert.deepEqual(rows.map((r) => r.exposure_id), [ingest.ingested[0].exposure_id]);

    const unknown = { routeKey: "GET /objects", rawPath: "/objects" };
    await assert.rejects(handler(unknown, context(log)), UnknownEventError);
    assert.ok(
      lines.some((l) => l.level === "error" && String(l.message).startsWith("unknown event shape")),
    );
    // a repeated S3 event registers nothing new
    const again = await handler(s3Event("local", ["raw/good one.fits"]), context(log)) as {
      ingested: IngestedObject[];
    };
    assert.equal(again.ingested[0].created, false);
  } finally {
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});
