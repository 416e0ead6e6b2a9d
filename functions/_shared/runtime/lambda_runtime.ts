/**
 * A custom AWS Lambda runtime for Deno (provided.al2023): the loop a `bootstrap`
 * runs against the Lambda Runtime API (`$AWS_LAMBDA_RUNTIME_API`, version 2018-06-01).
 *
 * 1. init: build the handler once — clients (db, store, queue) are made here,
 *    outside the loop, so warm invocations reuse them. An init failure is posted
 *    to `/runtime/init/error` and the runtime returns (the process should exit).
 * 2. loop: GET `/runtime/invocation/next` (blocks until an event arrives), call
 *    the handler with the event and a {@linkcode LambdaContext}, then POST the
 *    result as JSON to `/runtime/invocation/{id}/response`, or the error as
 *    `{errorType, errorMessage, stackTrace}` to `/runtime/invocation/{id}/error`.
 *
 * The X-Ray trace header of an invocation is exported as `_X_AMZN_TRACE_ID` (as
 * the AWS SDKs expect) and stamped on the context's logger as `trace_id`; a
 * child logger that names its own trace (a step message's) overrides it.
 *
 * @module
 */
import type { Logger } from "../log.ts";

/** What a handler learns about its invocation. */
export interface LambdaContext {
  /** `Lambda-Runtime-Aws-Request-Id`. */
  awsRequestId: string;
  /** Epoch milliseconds when the invocation times out (`Lambda-Runtime-Deadline-Ms`). */
  deadlineMs: number;
  /** `Lambda-Runtime-Invoked-Function-Arn`, empty when the API does not send it. */
  invokedFunctionArn: string;
  /** The X-Ray trace header (`Lambda-Runtime-Trace-Id`), when sent. */
  traceHeader?: string;
  /** Milliseconds left before the deadline (never negative). */
  getRemainingTimeInMillis(): number;
  /** The runtime's logger, stamped with `request_id` and the trace as `trace_id`. */
  log: Logger;
}

/** Handles one invocation; the resolved value is the response (serialized as JSON). */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

/** Options of {@linkcode runLambdaRuntime}. */
export interface LambdaRuntimeOptions {
  /** host:port of the Runtime API. @default $AWS_LAMBDA_RUNTIME_API */
  api?: string;
  /** The runtime's logger; each invocation gets a child of it. */
  log: Logger;
  /** Return after this many invocations (tests). @default Infinity */
  maxInvocations?: number;
  /** Stops the loop before the next GET once aborted. */
  signal?: AbortSignal;
  /** Where the trace header goes for the AWS SDKs. @default Deno.env.set("_X_AMZN_TRACE_ID", …) */
  setTraceEnv?: (header: string | undefined) => void;
}

/** How a runtime ended. */
export interface LambdaRuntimeResult {
  /** "init_error" when the init function threw (reported to the Runtime API). */
  outcome: "stopped" | "init_error";
  /** Invocations handled. */
  invocations: number;
  /** Invocations whose handler threw (reported to `/error`). */
  errors: number;
}

/** The error document the Runtime API takes (as the AWS runtimes send it). */
export interface LambdaErrorDocument {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

/** The Runtime API's error document for a thrown value. */
export function errorDocument(err: unknown): LambdaErrorDocument {
  if (err instanceof Error) {
    const frames = (err.stack ?? "").split("\n").slice(1).map((line) => line.trim()).filter(
      (line) => line !== "",
    );
    return { errorType: err.name || "Error", errorMessage: err.message, stackTrace: frames };
  }
  return { errorType: "Error", errorMessage: String(err), stackTrace: [] };
}

/** The X-Ray trace id in a trace header (`Root=1-…;Parent=…;Sampled=1`), else the header itself. */
export function traceIdFromHeader(header: string): string {
  const root = /(?:^|;)\s*Root=([^;]+)/.exec(header);
  return root ? root[1].trim() : header.trim();
}

const API_VERSION = "2018-06-01";

/** The Runtime API's answer was not what the protocol says: the runtime cannot go on. */
export class RuntimeApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuntimeApiError";
  }
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  await response.body?.cancel();
  return response;
}

/**
 * Runs the Lambda runtime: `init()` once, then invocations until the signal
 * aborts or `maxInvocations` were handled. A failing Runtime API (unreachable,
 * or a GET that does not name a request id) throws a {@linkcode RuntimeApiError}:
 * the process should exit so Lambda starts a fresh one.
 */
export async function runLambdaRuntime(
  init: () => Promise<LambdaHandler>,
  options: LambdaRuntimeOptions,
): Promise<LambdaRuntimeResult> {
  const api = options.api ?? Deno.env.get("AWS_LAMBDA_RUNTIME_API");
  if (!api) throw new RuntimeApiError("AWS_LAMBDA_RUNTIME_API is not set: not running on Lambda");
  const base = `http://${api}/${API_VERSION}/runtime`;
  const log = options.log;
  const setTraceEnv = options.setTraceEnv ?? ((header: string | undefined) => {
    if (header) Deno.env.set("_X_AMZN_TRACE_ID", header);
    else Deno.env.delete("_X_AMZN_TRACE_ID");
  });
  const result: LambdaRuntimeResult = { outcome: "stopped", invocations: 0, errors: 0 };

  let handler: LambdaHandler;
  try {
    handler = await init();
  } catch (err) {
    const doc = errorDocument(err);
    log.error(`lambda init failed: ${doc.errorType}: ${doc.errorMessage}`, {
      stack: doc.stackTrace,
    });
    const response = await post(`${base}/init/error`, JSON.stringify(doc), {
      "Lambda-Runtime-Function-Error-Type": `Runtime.${doc.errorType}`,
    });
    if (!response.ok) {
      log.error("the Runtime API refused the init error", { status: response.status });
    }
    return { ...result, outcome: "init_error" };
  }

  const max = options.maxInvocations ?? Infinity;
  while (result.invocations < max && !options.signal?.aborted) {
    const next = await fetch(`${base}/invocation/next`, { signal: options.signal }).catch(
      (err) => {
        if (options.signal?.aborted) return null;
        throw new RuntimeApiError(`GET invocation/next failed: ${(err as Error).message}`);
      },
    );
    if (next === null) break;
    const requestId = next.headers.get("Lambda-Runtime-Aws-Request-Id");
    const text = await next.text();
    if (!next.ok || !requestId) {
      throw new RuntimeApiError(
        `GET invocation/next answered ${next.status} ${requestId ? "" : "without a request id"}: ${
          text.slice(0, 200)
        }`,
      );
    }
    result.invocations++;
    const traceHeader = next.headers.get("Lambda-Runtime-Trace-Id") ?? undefined;
    setTraceEnv(traceHeader);
    const deadlineMs = Number(next.headers.get("Lambda-Runtime-Deadline-Ms")) || Infinity;
    const context: LambdaContext = {
      awsRequestId: requestId,
      deadlineMs,
      invokedFunctionArn: next.headers.get("Lambda-Runtime-Invoked-Function-Arn") ?? "",
      traceHeader,
      getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
      log: log.child(traceHeader ? { trace_id: traceIdFromHeader(traceHeader) } : {}),
    };
    const invocation = `${base}/invocation/${encodeURIComponent(requestId)}`;

    let body: string;
    try {
      const event = text === "" ? null : JSON.parse(text);
      const value = await handler(event, context);
      body = JSON.stringify(value ?? null);
    } catch (err) {
      result.errors++;
      const doc = errorDocument(err);
      context.log.error(`invocation failed: ${doc.errorType}: ${doc.errorMessage}`, {
        request_id: requestId,
      });
      const response = await post(`${invocation}/error`, JSON.stringify(doc), {
        "Lambda-Runtime-Function-Error-Type": doc.errorType,
      });
      if (!response.ok) {
        context.log.error("the Runtime API refused an error report", {
          request_id: requestId,
          status: response.status,
        });
      }
      continue;
    }
    const response = await post(`${invocation}/response`, body);
    if (!response.ok) {
      // e.g. 413: the response is larger than Lambda takes; say so as the invocation's error
      result.errors++;
      const doc: LambdaErrorDocument = {
        errorType: "Runtime.ResponseRejected",
        errorMessage:
          `the Runtime API refused the response (HTTP ${response.status}, ${body.length} bytes)`,
        stackTrace: [],
      };
      context.log.error(doc.errorMessage, { request_id: requestId });
      await post(`${invocation}/error`, JSON.stringify(doc), {
        "Lambda-Runtime-Function-Error-Type": doc.errorType,
      });
    }
  }
  return result;
}
