import assert from "node:assert/strict";
import { Logger } from "../log.ts";
import {
  errorDocument,
  type LambdaContext,
  type LambdaHandler,
  runLambdaRuntime,
  RuntimeApiError,
  traceIdFromHeader,
} from "./lambda_runtime.ts";

/** A posted request as the fake Runtime API saw it. */
interface Posted {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** One queued invocation: its id, event, and extra headers. */
interface Invocation {
  id: string;
  event: unknown;
  headers?: Record<string, string>;
}

/**
 * A Runtime API (2018-06-01) on loopback: hands out the queued invocations on
 * GET .../invocation/next and records every POST, answering as Lambda does
 * (202 for responses and errors, 400 for an unknown request id).
 */
function fakeRuntimeApi(invocations: Invocation[], options: { rejectResponse?: number } = {}) {
  const posted: Posted[] = [];
  const issued = new Set<string>();
  const queue = [...invocations];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/2018-06-01/runtime/invocation/next") {
      const inv = queue.shift();
      if (!inv) return new Response("no more invocations", { status: 500 });
      issued.add(inv.id);
      return new Response(JSON.stringify(inv.event), {
        headers: {
          "Lambda-Runtime-Aws-Request-Id": inv.id,
          "Lambda-Runtime-Deadline-Ms": String(Date.now() + 60_000),
          "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
          ...inv.headers,
        },
      });
    }
    if (req.method === "POST") {
      const text = await req.text();
      posted.push({
        path,
        headers: Object.fromEntries(req.headers.entries()),
        body: text === "" ? null : JSON.parse(text),
      });
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
      if (m && !issued.has(decodeURIComponent(m[1]))) {
        return new Response("unknown id", { status: 400 });
      }
      if (m && m[2] === "response" && options.rejectResponse) {
        return new Response("{}", { status: options.rejectResponse });
      }
      return new Response('{"status":"OK"}', { status: 202 });
    }
    return new Response("not found", { status: 404 });
  });
  return {
    api: `127.0.0.1:${server.addr.port}`,
    posted,
    close: () => server.shutdown(),
  };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: new Logger({}, "debug", (l) => lines.push(JSON.parse(l))) };
}

const noTraceEnv = () => {};

Deno.test("runLambdaRuntime posts each handler result to /response with the context it built", async () => {
  const api = fakeRuntimeApi([
    { id: "req-1", event: { n: 2 } },
    {
      id: "req-2",
      event: { n: 5 },
      headers: { "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1" },
    },
  ]);
  const { log } = capture();
  const contexts: LambdaContext[] = [];
  let inits = 0;
  try {
    const result = await runLambdaRuntime(() => {
      inits++;
      const handler: LambdaHandler = (event, ctx) => {
        contexts.push(ctx);
        return Promise.resolve({ square: (event as { n: number }).n ** 2 });
      };
      return Promise.resolve(handler);
    }, { api: api.api, log, maxInvocations: 2, setTraceEnv: noTraceEnv });
    assert.deepEqual(result, { outcome: "stopped", invocations: 2, errors: 0 });
  } finally {
    await api.close();
  }
  assert.equal(inits, 1, "init runs once, before the loop");
  assert.deepEqual(api.posted.map((p) => [p.path, p.body]), [
    ["/2018-06-01/runtime/invocation/req-1/response", { square: 4 }],
    ["/2018-06-01/runtime/invocation/req-2/response", { square: 25 }],
  ]);
  assert.equal(contexts[0].awsRequestId, "req-1");
  assert.equal(contexts[0].invokedFunctionArn, "arn:aws:lambda:us-east-1:123456789012:function:f");
  const remaining = contexts[0].getRemainingTimeInMillis();
  assert.ok(remaining > 0 && remaining <= 60_000, `remaining ${remaining} ms of 60000`);
  assert.equal(contexts[0].log.context.trace_id, undefined);
  assert.equal(contexts[1].log.context.trace_id, "1-5759e988-bd862e3fe1be46a994272793");
});

Deno.test("runLambdaRuntime: trace id on the logger, a message's own trace overrides it", async () => {
  const api = fakeRuntimeApi([{
    id: "req-t",
    event: {},
    headers: { "Lambda-Runtime-Trace-Id": "Root=1-aaaa-bbbb;Parent=cc;Sampled=0" },
  }]);
  const { lines, log } = capture();
  const traces: (string | undefined)[] = [];
  try {
    await runLambdaRuntime(() =>
      Promise.resolve((_event, ctx) => {
        ctx.log.info("runtime line");
        ctx.log.child({ trace_id: "0123456789abcdef" }).info("step line");
        return Promise.resolve(null);
      }), { api: api.api, log, maxInvocations: 1, setTraceEnv: (h) => traces.push(h) });
  } finally {
    await api.close();
  }
  assert.deepEqual(traces, ["Root=1-aaaa-bbbb;Parent=cc;Sampled=0"], "exported for the SDKs");
  const byMessage = Object.fromEntries(lines.map((l) => [l.message, l.trace_id]));
  assert.equal(byMessage["runtime line"], "1-aaaa-bbbb");
  assert.equal(byMessage["step line"], "0123456789abcdef");
  assert.deepEqual(api.posted[0].body, null, "an undefined result is posted as null");
});

Deno.test("runLambdaRuntime posts a handler error to /error and goes on with the next event", async () => {
  const api = fakeRuntimeApi([{ id: "bad", event: {} }, { id: "good", event: {} }]);
  const { lines, log } = capture();
  class UnknownEvent extends Error {
    override name = "UnknownEvent";
  }
  try {
    const result = await runLambdaRuntime(() =>
      Promise.resolve((_event, ctx) => {
        if (ctx.awsRequestId === "bad") throw new UnknownEvent("event shape not recognised");
        return Promise.resolve("fine");
      }), { api: api.api, log, maxInvocations: 2, setTraceEnv: noTraceEnv });
    assert.deepEqual(result, { outcome: "stopped", invocations: 2, errors: 1 });
  } finally {
    await api.close();
  }
  const [error, response] = api.posted;
  assert.equal(error.path, "/2018-06-01/runtime/invocation/bad/error");
  assert.equal(error.headers["lambda-runtime-function-error-type"], "UnknownEvent");
  const doc = error.body as { errorType: string; errorMessage: string; stackTrace: string[] };
  assert.equal(doc.errorType, "UnknownEvent");
  assert.equal(doc.errorMessage, "event shape not recognised");
  assert.ok(Array.isArray(doc.stackTrace) && doc.stackTrace.length > 0);
  assert.equal(response.path, "/2018-06-01/runtime/invocation/good/response");
  assert.equal(response.body, "fine");
  assert.ok(lines.some((l) => l.level === "error" && String(l.message).includes("UnknownEvent")));
});

Deno.test("runLambdaRuntime passes a partial batch response through unchanged", async () => {
  const api = fakeRuntimeApi([{ id: "batch", event: { Records: [] } }]);
  const failures = { batchItemFailures: [{ itemIdentifier: "m-2" }, { itemIdentifier: "m-5" }] };
  try {
    await runLambdaRuntime(() => Promise.resolve(() => Promise.resolve(failures)), {
      api: api.api,
      log: capture().log,
      maxInvocations: 1,
      setTraceEnv: noTraceEnv,
    });
  } finally {
    await api.close();
  }
  assert.deepEqual(api.posted, [{
    path: "/2018-06-01/runtime/invocation/batch/response",
    headers: api.posted[0].headers,
    body: failures,
  }]);
});

Deno.test("runLambdaRuntime reports an init failure to /init/error and handles no event", async () => {
  const api = fakeRuntimeApi([{ id: "never", event: {} }]);
  try {
    const result = await runLambdaRuntime(() => {
      const err = new Error("db secret not found");
      err.name = "ConfigError";
      return Promise.reject(err);
    }, { api: api.api, log: capture().log, setTraceEnv: noTraceEnv });
    assert.deepEqual(result, { outcome: "init_error", invocations: 0, errors: 0 });
  } finally {
    await api.close();
  }
  assert.equal(api.posted.length, 1);
  assert.equal(api.posted[0].path, "/2018-06-01/runtime/init/error");
  assert.equal(api.posted[0].headers["lambda-runtime-function-error-type"], "Runtime.ConfigError");
  assert.deepEqual(
    { ...(api.posted[0].body as Record<string, unknown>), stackTrace: [] },
    { errorType: "ConfigError", errorMessage: "db secret not found", stackTrace: [] },
  );
});

Deno.test("runLambdaRuntime turns a refused response (413) into the invocation's error", async () => {
  const api = fakeRuntimeApi([{ id: "big", event: {} }], { rejectResponse: 413 });
  try {
    const result = await runLambdaRuntime(() => Promise.resolve(() => Promise.resolve("x")), {
      api: api.api,
      log: capture().log,
      maxInvocations: 1,
      setTraceEnv: noTraceEnv,
    });
    assert.equal(result.errors, 1);
  } finally {
    await api.close();
  }
  assert.deepEqual(api.posted.map((p) => p.path), [
    "/2018-06-01/runtime/invocation/big/response",
    "/2018-06-01/runtime/invocation/big/error",
  ]);
  assert.equal((api.posted[1].body as { errorType: string }).errorType, "Runtime.ResponseRejected");
});

Deno.test("runLambdaRuntime throws RuntimeApiError when the API is unreachable or malformed", async () => {
  // a port nothing listens on: bind one, then close it
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    runLambdaRuntime(() => Promise.resolve(() => Promise.resolve(null)), {
      api: `127.0.0.1:${port}`,
      log: capture().log,
      setTraceEnv: noTraceEnv,
    }),
    RuntimeApiError,
  );
  const api = fakeRuntimeApi([]); // GET next answers 500 with no request id
  try {
    await assert.rejects(
      runLambdaRuntime(() => Promise.resolve(() => Promise.resolve(null)), {
        api: api.api,
        log: capture().log,
        setTraceEnv: noTraceEnv,
      }),
      /answered 500/,
    );
  } finally {
    await api.close();
  }
});

Deno.test("errorDocument and traceIdFromHeader", () => {
  const doc = errorDocument(new TypeError("bad"));
  assert.equal(doc.errorType, "TypeError");
  assert.equal(doc.errorMessage, "bad");
  assert.ok(doc.stackTrace.every((frame) => frame.startsWith("at ")));
  assert.deepEqual(errorDocument("plain"), {
    errorType: "Error",
    errorMessage: "plain",
    stackTrace: [],
  });
  assert.equal(
    traceIdFromHeader("Root=1-67891233-abcdef012345678912345678;Sampled=1"),
    "1-67891233-abcdef012345678912345678",
  );
  assert.equal(traceIdFromHeader("Sampled=1;Root=1-a-b"), "1-a-b");
  assert.equal(traceIdFromHeader("opaque"), "opaque");
});
