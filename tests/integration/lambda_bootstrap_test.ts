/**
 * The Lambda package end to end: infra/build_lambda.ts builds the function
 * directory (bootstrap + sources + Deno cache), and its `bootstrap` runs as
 * Lambda would run it — a separate process talking to a Runtime API — on the
 * embedded database (PGlite in a temp dir) and a directory store, with the step
 * queue on the real ElasticMQ started by scripts/services.sh (the SQS records
 * carry real receipt handles, so dead-lettering moves real messages).
 *
 * Run as root, the bootstrap runs as `nobody` on a package it cannot write to,
 * as on Lambda (an unprivileged user, a read-only task root).
 *
 * The Runtime API is a loopback server in this test implementing the
 * 2018-06-01 protocol: the AWS Lambda Runtime Interface Emulator could not be
 * built here (the Go module proxy answers 403 for
 * github.com/aws/aws-lambda-runtime-interface-emulator).
 */
import assert from "node:assert/strict";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { openDb } from "../../functions/_shared/db/open.ts";
import { Header } from "../../functions/_shared/fits/header.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import type { Received } from "../../functions/_shared/queue/queue.ts";
import { SqsQueue } from "../../functions/_shared/queue/sqs_queue.ts";
import { FsObjectStore } from "../../functions/_shared/storage/fs_store.ts";
import { buildLambdaAsset } from "../../infra/build_lambda.ts";
import { requireService, serviceLabel } from "../services.ts";

const sqs = requireService("sqs");
const label = serviceLabel("sqs", sqs);

// one package for every test here, removed when the module unloads
const packageDir = await Deno.makeTempDir({ prefix: "skydiff-lambda-package-" });
globalThis.addEventListener("unload", () => Deno.removeSync(packageDir, { recursive: true }));
let building: ReturnType<typeof buildLambdaAsset> | null = null;
/** The function directory (built once). */
function lambdaPackage() {
  building ??= buildLambdaAsset({
    assetDir: `${packageDir}/function`,
    layerDir: `${packageDir}/layer`,
    say: () => {},
  });
  return building;
}

/** What the function posted for one invocation. */
interface Outcome {
  kind: "response" | "error";
  body: Record<string, unknown>;
  headers: Headers;
}

interface Invocation {
  id: string;
  event: unknown;
  trace?: string;
  done: (outcome: Outcome) => void;
}

/**
 * A Runtime API on loopback: `invoke(event)` hands the event to the next GET
 * /invocation/next and resolves with what the function posts back.
 */
function runtimeApi() {
  const pending: Invocation[] = [];
  let waiter: ((inv: Invocation | null) => void) | null = null;
  const inflight = new Map<string, Invocation>();
  let initError: ((outcome: Outcome) => void) | null = null;
  const initErrorPosted = new Promise<Outcome>((resolve) => (initError = resolve));
  let closed = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/2018-06-01/runtime/invocation/next") {
      const inv = pending.shift() ??
        (closed ? null : await new Promise<Invocation | null>((r) => (waiter = r)));
      if (!inv) return new Response("runtime api closed", { status: 410 });
      inflight.set(inv.id, inv);
      return new Response(JSON.stringify(inv.event), {
        headers: {
          "Lambda-Runtime-Aws-Request-Id": inv.id,
          "Lambda-Runtime-Deadline-Ms": String(Date.now() + 120_000),
          "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
          ...(inv.trace ? { "Lambda-Runtime-Trace-Id": inv.trace } : {}),
        },
      });
    }
    const text = await req.text();
    const body = text === "" ? {} : JSON.parse(text);
    if (req.method === "POST" && path === "/2018-06-01/runtime/init/error") {
      initError!({ kind: "error", body, headers: req.headers });
      return new Response("{}", { status: 202 });
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    const inv = m && inflight.get(m[1]);
    if (req.method !== "POST" || !m || !inv) return new Response("unknown", { status: 400 });
    inflight.delete(inv.id);
    inv.done({ kind: m[2] as Outcome["kind"], body, headers: req.headers });
    return new Response("{}", { status: 202 });
  });
  return {
    address: `127.0.0.1:${server.addr.port}`,
    initErrorPosted,
    invoke(event: unknown, trace?: string): Promise<Outcome> {
      return new Promise((done) => {
        const inv = { id: crypto.randomUUID(), event, trace, done };
        if (waiter) {
          const w = waiter;
          waiter = null;
          w(inv);
        } else pending.push(inv);
      });
    },
    async close() {
      closed = true;
      waiter?.(null);
      await server.shutdown();
    },
  };
}

function rawExposure(ra: number): Uint8Array {
  const primary = new Header()
    .set("INSTRUME", "SimCam")
    .set("TELESCOP", "SimScope")
    .set("FILTER", "i")
    .set("EXPTIME", 60)
    .set("MJD-OBS", 61002.75)
    .set("RA", ra)
    .set("DEC", 33.25);
  const ccd = new Float32Array(16 * 16).map((_, i) => i % 7);
  return writeFits([{ header: primary }, { name: "C1", data: ccd, axes: [16, 16] }]);
}

function s3Event(keys: string[]) {
  return {
    Records: keys.map((key) => ({
      eventSource: "aws:s3",
      eventName: "ObjectCreated:Put",
      s3: { bucket: { name: "local" }, object: { key } },
    })),
  };
}

function sqsEvent(messages: Received[]) {
  return {
    Records: messages.map((m) => ({
      messageId: m.id,
      receiptHandle: m.receipt,
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.receiveCount) },
      eventSource: "aws:sqs",
    })),
  };
}

/**
 * Lambda runs `bootstrap` as an unprivileged user with a read-only task root.
 * When this test runs as root, so does the bootstrap here: as `nobody`, on a
 * package it cannot write to.
 */
const AS_NOBODY = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync("/usr/sbin/runuser").isFile;
  } catch {
    return false;
  }
})();

/** Makes `dir` (and what is in it) usable by the bootstrap's user: read-only, or writable. */
async function share(dir: string, writable: boolean): Promise<void> {
  if (!AS_NOBODY) return;
  const mode = writable ? "a+rwX" : "a+rX,go-w";
  const out = await new Deno.Command("chmod", { args: ["-R", mode, dir] }).output();
  assert.ok(out.success, `chmod ${mode} ${dir}`);
}

/** Starts `bootstrap` as Lambda would; stdout (JSON log lines) is collected. */
function startBootstrap(assetDir: string, env: Record<string, string>) {
  const vars = { LAMBDA_TASK_ROOT: assetDir, SKYDIFF_DENO: Deno.execPath(), ...env };
  const command = AS_NOBODY
    ? new Deno.Command("/usr/sbin/runuser", {
      args: [
        "-u",
        "nobody",
        "--",
        "env",
        "-i",
        ...Object.entries(vars).map(([k, v]) => `${k}=${v}`),
        "/bin/sh",
        `${assetDir}/bootstrap`,
      ],
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command("/bin/sh", {
      args: [`${assetDir}/bootstrap`],
      env: vars,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    });
  const child = command.spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    /** SIGTERM to the runtime itself (runuser would kill its session instead of passing it on). */
    terminate() {
      if (!AS_NOBODY) return child.kill("SIGTERM");
      const kids = Deno.readTextFileSync(`/proc/${child.pid}/task/${child.pid}/children`).trim();
      assert.ok(kids !== "", "the runtime process under runuser");
      for (const pid of kids.split(/\s+/)) Deno.kill(Number(pid), "SIGTERM");
    },
    async output() {
      const status = await child.status;
      return { status, stdout: await stdout, stderr: await stderr };
    },
  };
}

Deno.test({
  name: `lambda bootstrap [${label}]: S3 ingest, SQS batch with partial failures, unknown event`,
  ignore: !sqs,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "skydiff-lambda-" });
    const queueName = `lambda-it-${crypto.randomUUID().slice(0, 8)}`;
    const api = runtimeApi();
    const queue = await SqsQueue.open(queueName, {
      endpoint: sqs!.endpoint,
      accessKeyId: "skydiff",
      secretAccessKey: "skydiff",
      visibilitySeconds: 60,
      maxReceives: 3,
    });
    let bootstrap: ReturnType<typeof startBootstrap> | null = null;
    try {
      const built = await lambdaPackage();
      assert.ok(built.assetBytes + built.layerBytes < 250 * 1024 * 1024, "within Lambda's 250 MB");
      const store = new FsObjectStore({ root: `${dir}/store` });
      await store.put("raw/a.fits", rawExposure(40.5));
      await store.put("raw/b.fits", rawExposure(41.5));
      await Deno.writeTextFile(
        `${dir}/config.yaml`,
        JSON.stringify({
          db: { data_dir: `${dir}/db` },
          storage: { kind: "fs", root: `${dir}/store` },
          queue: {
            kind: "sqs",
            name: queueName,
            visibility_seconds: 60,
            max_receives: 3,
            retry_delay_seconds: 0,
            sqs: {
              endpoint: sqs!.endpoint,
              access_key_id: "skydiff",
              secret_access_key: "skydiff",
            },
          },
          pipeline: { first_step: "headersummary", through_step: "headersummary" },
        }),
      );
      await share(packageDir, false);
      await share(dir, true);
      bootstrap = startBootstrap(built.assetDir, {
        AWS_LAMBDA_RUNTIME_API: api.address,
        SKYDIFF_CONFIG: `${dir}/config.yaml`,
        SKYDIFF_DENO_DIR: `${dir}/deno_dir`,
        PATH: "/usr/bin:/bin",
      });

      // 1. the S3 event registers both exposures and queues their first step
      const ingest = await api.invoke(s3Event(["raw/a.fits", "raw/b.fits"]));
      assert.equal(ingest.kind, "response", JSON.stringify(ingest.body));
      const ingested = ingest.body.ingested as {
        key: string;
        exposure_id: string;
        created: boolean;
        queued: string[];
      }[];
      assert.deepEqual(ingested.map((i) => [i.key, i.created, i.queued]), [
        ["raw/a.fits", true, ["headersummary"]],
        ["raw/b.fits", true, ["headersummary"]],
      ]);
      const [a, b] = ingested.map((i) => i.exposure_id);

      // 2. b's raw file disappears; a malformed message joins the queue
      await store.delete("raw/b.fits");
      await queue.send('{"v":1,"step":"no-such-step"}');
      const received: Received[] = [];
      for (let i = 0; i < 20 && received.length < 3; i++) {
        received.push(...await queue.receive({ max: 10, waitSeconds: 1 }));
      }
      assert.equal(received.length, 3);
      const byExposure = (id: string) => received.find((r) => r.body.includes(id))!;
      const malformed = received.find((r) => r.body.includes("no-such-step"))!;

      const trace = "Root=1-6740a1b2-0123456789abcdef01234567;Parent=1a2b3c4d5e6f7a8b;Sampled=1";
      const batch = await api.invoke(sqsEvent(received), trace);
      assert.equal(batch.kind, "response", JSON.stringify(batch.body));
      assert.deepEqual(batch.body, { batchItemFailures: [{ itemIdentifier: byExposure(b).id }] });
      // b's message is visible again at once (retry_delay_seconds 0), not after 60 s
      const retried: Received[] = [];
      for (let i = 0; i < 10 && retried.length === 0; i++) {
        retried.push(...await queue.receive({ max: 10, waitSeconds: 1 }));
      }
      assert.deepEqual(retried.map((r) => [r.id, r.receiveCount]), [[byExposure(b).id, 2]]);
      const dead = await queue.peekDeadLetters(10);
      assert.deepEqual(dead.map((d) => d.body), [malformed.body]);
      assert.match(dead[0].reason, /step/);

      // 3. an event of no known shape is the invocation's error
      const unknown = await api.invoke({ httpMethod: "GET", path: "/objects" });
      assert.equal(unknown.kind, "error");
      assert.equal(unknown.body.errorType, "UnknownEventError");
      assert.equal(unknown.headers.get("Lambda-Runtime-Function-Error-Type"), "UnknownEventError");

      // 4. SIGTERM: the runtime stops waiting, closes its clients, exits 0
      bootstrap.terminate();
      const { status, stdout, stderr } = await bootstrap.output();
      bootstrap = null;
      assert.equal(status.code, 0, stderr.slice(-2000));
      const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const batchLine = lines.find((l) => l.message === "sqs batch done");
      assert.equal(batchLine?.trace_id, "1-6740a1b2-0123456789abcdef01234567");
      const stepLine = lines.find((l) => l.message === "step done" && l.exposure === a);
      assert.equal(
        stepLine?.trace_id,
        JSON.parse(byExposure(a).body).trace_id,
        "the message's trace wins",
      );

      if (AS_NOBODY) {
        const id = await new Deno.Command("id", { args: ["-u", "nobody"] }).output();
        const nobody = Number(new TextDecoder().decode(id.stdout));
        assert.equal(Deno.statSync(`${dir}/db`).uid, nobody, "the runtime ran as nobody");
      }
      const db = await openDb({ dataDir: `${dir}/db` });
      try {
        const summaries = await db.query<{ exposure_id: string }>(
          "SELECT exposure_id FROM header_summaries",
        );
        assert.deepEqual(summaries.map((r) => r.exposure_id), [a]);
        const reports = await db.query<{ exposure_id: string; error_type: string | null }>(
          "SELECT exposure_id, error_type FROM reports ORDER BY exposure_id = $1 DESC",
          [a],
        );
        assert.equal(reports.length, 2);
        assert.deepEqual([reports[0].exposure_id, reports[0].error_type], [a, null]);
        assert.equal(reports[1].exposure_id, b);
        assert.ok(reports[1].error_type, "b's failed attempt is reported with its error");
      } finally {
        await db.close();
      }
    } finally {
      if (bootstrap) {
        bootstrap.child.kill("SIGKILL");
        await bootstrap.output();
      }
      await api.close();
      await queue.client.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
      await queue.client.send(new DeleteQueueCommand({ QueueUrl: queue.deadLetterUrl }));
      await queue.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "lambda bootstrap: a configuration error at init is posted to /init/error, exit 1",
  sanitizeResources: false,
  async fn() {
    const built = await lambdaPackage();
    const dir = await Deno.makeTempDir({ prefix: "skydiff-lambda-" });
    const api = runtimeApi();
    try {
      await share(packageDir, false);
      await share(dir, true);
      const bootstrap = startBootstrap(built.assetDir, {
        AWS_LAMBDA_RUNTIME_API: api.address,
        SKYDIFF_CONFIG_OVERRIDES: '{"queue": {"kind": "carrier-pigeon"}}',
        SKYDIFF_DENO_DIR: `${dir}/deno_dir`,
        PATH: "/usr/bin:/bin",
      });
      const posted = await api.initErrorPosted;
      const { status } = await bootstrap.output();
      assert.equal(status.code, 1);
      assert.equal(posted.body.errorType, "ConfigError");
      assert.match(String(posted.body.errorMessage), /queue\.kind/);
      assert.equal(posted.headers.get("Lambda-Runtime-Function-Error-Type"), "Runtime.ConfigError");
    } finally {
      await api.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
