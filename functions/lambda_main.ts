/**
 * The AWS Lambda entry point (cloud mode): one binary for every skydiff
 * function, routed by the shape of the event.
 *
 * - an SQS event (`Records[].eventSource == "aws:sqs"`): step messages, run by
 *   {@linkcode handleSqsBatch} with the step handlers; failed records come back
 *   as `batchItemFailures` (the event source mapping reports partial failures)
 *   and are made visible again after `queue.retry_delay_seconds`;
 * - an S3 ObjectCreated event (`eventSource == "aws:s3"`): raw exposures,
 *   registered by {@linkcode ingestObject}, which queues their first step;
 * - anything else: logged and rejected with an {@linkcode UnknownEventError}
 *   (reported to Lambda as the invocation's error). API Gateway events will be
 *   routed here once functions/api exists.
 *
 * Configuration is config/default.yaml < $SKYDIFF_CONFIG < the JSON object in
 * `SKYDIFF_CONFIG_OVERRIDES` (the CDK stack writes it: buckets, queue, sizes);
 * the database URL is assembled from the RDS secret named by
 * `SKYDIFF_DB_SECRET_ARN`, read through the AWS Parameters and Secrets Lambda
 * extension. Raw exposures stay in the raw-data bucket (`SKYDIFF_RAW_BUCKET`):
 * the pipeline names them `raw/<key>` as in every other mode, and the store
 * routes that prefix to the raw bucket.
 *
 * Run as a custom runtime (provided.al2023): `bootstrap` execs the compiled
 * binary (`deno compile … functions/lambda_main.ts`), see infra/README.md.
 *
 * @module
 */
import { type Config, loadConfig } from "./config.ts";
import { reportSink } from "./_shared/db/reports.ts";
import { ConfigError, describeError, InputError } from "./_shared/errors.ts";
import { Logger } from "./_shared/log.ts";
import type { ReportSink } from "./_shared/runtime/dispatch.ts";
import type { Services } from "./_shared/runtime/handler.ts";
import { handleSqsBatch, type SqsBatchResponse, type SqsEvent } from "./_shared/runtime/lambda.ts";
import {
  type LambdaContext,
  type LambdaHandler,
  runLambdaRuntime,
} from "./_shared/runtime/lambda_runtime.ts";
import { stopSignal } from "./_shared/runtime/worker.ts";
import { openServices } from "./_shared/services.ts";
import type { ObjectInfo, ObjectStore } from "./_shared/storage/object_store.ts";
import { openObjectStore } from "./_shared/storage/open.ts";
import { ingestObject, S3EventSchema } from "./ingest/ingest.ts";
import { HANDLERS } from "./steps.ts";

/** The environment variables the stack sets for the functions. */
export const LAMBDA_ENV = {
  /** A JSON object of configuration overrides (the top layer). */
  overrides: "SKYDIFF_CONFIG_OVERRIDES",
  /** ARN of the Secrets Manager secret holding the database credentials (RDS JSON). */
  dbSecretArn: "SKYDIFF_DB_SECRET_ARN",
  /** The raw-data bucket; objects there are the pipeline's `raw/` keys. */
  rawBucket: "SKYDIFF_RAW_BUCKET",
  /** "1": apply pending migrations at init (the ingest function does; it starts every run). */
  migrate: "SKYDIFF_MIGRATE",
} as const;

/** The logical key prefix of raw exposures, in every mode (`skydiff ingest` stores `raw/<name>`). */
export const RAW_PREFIX = "raw/";

/** The event kinds the entry point knows. */
export type EventShape = "sqs" | "s3" | "unknown";

/** The kind of a Lambda event, by its records' `eventSource`. */
export function eventShape(event: unknown): EventShape {
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records) || records.length === 0) return "unknown";
  const sources = new Set(records.map((r) => (r as { eventSource?: unknown })?.eventSource));
  if (sources.size !== 1) return "unknown";
  const [source] = sources;
  if (source === "aws:sqs") return "sqs";
  if (source === "aws:s3") return "s3";
  return "unknown";
}

/** An event this entry point does not handle. */
export class UnknownEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnknownEventError";
  }
}

/** A short description of an event's shape for logs (top-level keys, record sources). */
function describeEvent(event: unknown): Record<string, unknown> {
  if (typeof event !== "object" || event === null) return { type: typeof event };
  const records = (event as { Records?: unknown }).Records;
  return {
    keys: Object.keys(event).slice(0, 20),
    record_sources: Array.isArray(records)
      ? [...new Set(records.map((r) => String((r as { eventSource?: unknown })?.eventSource)))]
      : undefined,
  };
}

/** What the handler needs, built once per execution environment. */
export interface LambdaDeps extends Services {
  config: Config;
  log: Logger;
  reports: ReportSink;
  /** The raw-data bucket's name, when raw exposures live in their own bucket. */
  rawBucket?: string;
}

/** One ingested object, as the S3 invocation reports it. */
export interface IngestedObject {
  key: string;
  exposure_id: string;
  created: boolean;
  queued: string[];
}

/**
 * The logical key of an object named in an S3 event: `raw/<key>` when it is in
 * the raw-data bucket, the key itself in the pipeline's own bucket (or with no
 * separate raw bucket). Another bucket is an {@linkcode InputError}.
 */
export function logicalKey(
  bucket: string,
  key: string,
  buckets: { raw?: string; products?: string },
): string {
  if (buckets.raw !== undefined && bucket === buckets.raw) return RAW_PREFIX + key;
  if (buckets.raw === undefined || bucket === buckets.products) return key;
  throw new InputError(
    `S3 event for bucket "${bucket}": this function reads "${buckets.raw}" and "${buckets.products}"`,
    { field: "Records.s3.bucket.name" },
  );
}

async function ingestEvent(event: unknown, deps: LambdaDeps, log: Logger) {
  const parsed = S3EventSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `not an S3 ObjectCreated event: ${issue.path.join(".")}: ${issue.message}`,
      {
        field: issue.path.join("."),
      },
    );
  }
  const products = deps.config.storage.kind === "s3" ? deps.config.storage.s3.bucket : undefined;
  const ingested: IngestedObject[] = [];
  for (const record of parsed.data.Records) {
    const eventKey = decodeURIComponent(record.s3.object.key.replace(/\+/g, " "));
    const key = logicalKey(record.s3.bucket.name, eventKey, { raw: deps.rawBucket, products });
    const result = await ingestObject(deps, key, {
      provenanceTag: deps.config.pipeline.provenance_tag,
      firstStep: deps.config.pipeline.first_step,
      throughStep: deps.config.pipeline.through_step,
    });
    const queued = result.messages.map((m) => m.step);
    log.info(result.created ? "exposure registered" : "exposure already known", {
      key,
      exposure_id: result.exposureId,
      queued,
    });
    ingested.push({ key, exposure_id: result.exposureId, created: result.created, queued });
  }
  return { ingested };
}

/**
 * Failed records come back after `queue.retry_delay_seconds` (as in worker mode)
 * rather than after the queue's whole visibility timeout: their visibility is
 * changed through their receipt handles. A record whose visibility cannot be
 * changed simply waits for the timeout.
 */
async function delayRetries(
  event: SqsEvent,
  response: SqsBatchResponse,
  deps: LambdaDeps,
  log: Logger,
): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const record of event.Records) {
    if (!failed.has(record.messageId)) continue;
    try {
      await deps.queue.release({
        id: record.messageId,
        body: record.body,
        receipt: record.receiptHandle,
        receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
      }, deps.config.queue.retry_delay_seconds);
    } catch (err) {
      log.warn("could not shorten a failed record's visibility", {
        message_id: record.messageId,
        error: describeError(err),
      });
    }
  }
}

/** The invocation handler: routes SQS batches to the steps and S3 events to ingest. */
export function lambdaHandler(deps: LambdaDeps): LambdaHandler {
  return async (event: unknown, context: LambdaContext) => {
    const log = context.log.child({});
    switch (eventShape(event)) {
      case "sqs": {
        const response: SqsBatchResponse = await handleSqsBatch(event as SqsEvent, {
          db: deps.db,
          store: deps.store,
          queue: deps.queue,
          handlers: HANDLERS,
          config: deps.config,
          log,
          reports: deps.reports,
          retryDelaySeconds: deps.config.queue.retry_delay_seconds,
        });
        await delayRetries(event as SqsEvent, response, deps, log);
        log.info("sqs batch done", {
          request_id: context.awsRequestId,
          records: (event as SqsEvent).Records.length,
          failed: response.batchItemFailures.length,
        });
        return response;
      }
      case "s3":
        return await ingestEvent(event, deps, log);
      default: {
        const shape = describeEvent(event);
        log.error("unknown event shape: not SQS, not S3 ObjectCreated", {
          request_id: context.awsRequestId,
          ...shape,
        });
        throw new UnknownEventError(
          `unknown event shape (keys: ${JSON.stringify(shape.keys ?? shape.type)}); ` +
            "this function handles SQS step batches and S3 ObjectCreated events",
        );
      }
    }
  };
}

/**
 * An object store that keeps keys under `prefix` in `routed` (with the prefix
 * removed) and every other key in `primary`. Lists under a prefix span both.
 */
export function prefixRoutedStore(
  primary: ObjectStore,
  prefix: string,
  routed: ObjectStore,
): ObjectStore {
  const pick = (key: string): [ObjectStore, string] =>
    key.startsWith(prefix) ? [routed, key.slice(prefix.length)] : [primary, key];
  const relabel = (info: ObjectInfo | null, key: string) => info && { ...info, key };
  return {
    kind: primary.kind,
    async put(key, data, options) {
      const [store, k] = pick(key);
      return relabel(await store.put(k, data, options), key)!;
    },
    get(key, options) {
      const [store, k] = pick(key);
      return store.get(k, options);
    },
    async head(key) {
      const [store, k] = pick(key);
      return relabel(await store.head(k), key);
    },
    delete(key) {
      const [store, k] = pick(key);
      return store.delete(k);
    },
    async *list(listPrefix) {
      // keys sort lexically: primary keys before `prefix`, the routed ones, primary keys after
      const inRouted = listPrefix.startsWith(prefix) || prefix.startsWith(listPrefix);
      const routedKeys: string[] = [];
      if (inRouted) {
        const sub = listPrefix.startsWith(prefix) ? listPrefix.slice(prefix.length) : "";
        for await (const k of routed.list(sub)) routedKeys.push(prefix + k);
      }
      let i = 0;
      for await (const k of primary.list(listPrefix)) {
        if (k.startsWith(prefix)) continue; // shadowed by the routed store
        while (i < routedKeys.length && routedKeys[i] < k) yield routedKeys[i++];
        yield k;
      }
      while (i < routedKeys.length) yield routedKeys[i++];
    },
  };
}

/** Options of {@linkcode fetchSecret}. */
export interface SecretOptions {
  /** The process environment. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Attempts while the extension is starting. @default 10 */
  attempts?: number;
  /** Pause between attempts, in ms. @default 200 */
  pauseMs?: number;
}

/**
 * A secret's string from the AWS Parameters and Secrets Lambda extension
 * (`localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, default 2773), which
 * caches it for the execution environment.
 */
export async function fetchSecret(secretId: string, options: SecretOptions = {}): Promise<string> {
  const env = options.env ?? Deno.env.toObject();
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT || "2773";
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${
    encodeURIComponent(secretId)
  }`;
  const attempts = options.attempts ?? 10;
  let last = "";
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 200));
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { "X-Aws-Parameters-Secrets-Token": env.AWS_SESSION_TOKEN ?? "" },
      });
    } catch (err) {
      last = (err as Error).message; // the extension is not listening yet
      continue;
    }
    const text = await response.text();
    if (response.ok) {
      const secret = (JSON.parse(text) as { SecretString?: unknown }).SecretString;
      if (typeof secret !== "string") {
        throw new ConfigError(`secret ${secretId} has no SecretString`, secretId, "db.url");
      }
      return secret;
    }
    last = `HTTP ${response.status}: ${text.slice(0, 200)}`;
    if (response.status < 500) break; // denied or unknown: waiting will not help
  }
  throw new ConfigError(`cannot read secret ${secretId}: ${last}`, secretId, "db.url");
}

/** A postgres:// URL from an RDS credentials secret (`username`, `password`, `host`, `port`, `dbname`). */
export function postgresUrlFromSecret(secretJson: string, sslmode = "require"): string {
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(secretJson);
  } catch {
    throw new ConfigError("the database secret is not JSON", "db secret", "db.url");
  }
  for (const field of ["username", "password", "host"]) {
    if (typeof s[field] !== "string" || s[field] === "") {
      throw new ConfigError(`the database secret has no ${field}`, "db secret", "db.url");
    }
  }
  const user = encodeURIComponent(s.username as string);
  const pass = encodeURIComponent(s.password as string);
  const port = s.port ?? 5432;
  const db = encodeURIComponent(String(s.dbname ?? "postgres"));
  return `postgres://${user}:${pass}@${s.host}:${port}/${db}?sslmode=${sslmode}`;
}

/** The configuration overrides a function's environment carries. */
export async function overridesFromEnv(
  env: Record<string, string>,
  secret: (id: string) => Promise<string> = (id) => fetchSecret(id, { env }),
): Promise<Record<string, unknown>> {
  let overrides: Record<string, unknown> = {};
  const text = env[LAMBDA_ENV.overrides];
  if (text) {
    try {
      overrides = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(
        `${LAMBDA_ENV.overrides} is not JSON: ${(err as Error).message}`,
        LAMBDA_ENV.overrides,
        "",
      );
    }
  }
  const arn = env[LAMBDA_ENV.dbSecretArn];
  if (arn) {
    const url = postgresUrlFromSecret(await secret(arn));
    const db = (overrides.db ?? {}) as Record<string, unknown>;
    overrides = { ...overrides, db: { ...db, url } };
  }
  return overrides;
}

/**
 * Builds the handler once per execution environment: configuration, then the
 * db, object store and queue clients (kept open across invocations).
 */
export async function initLambda(
  env: Record<string, string> = Deno.env.toObject(),
): Promise<{ handler: LambdaHandler; deps: LambdaDeps; close(): Promise<void> }> {
  const config = await loadConfig(await overridesFromEnv(env));
  const log = new Logger({}, config.log.level);
  const migrate = env[LAMBDA_ENV.migrate] === "1" || config.db.url === "";
  const services = await openServices(config, { migrate });
  const rawBucket = env[LAMBDA_ENV.rawBucket] || undefined;
  let store = services.store;
  if (rawBucket !== undefined && config.storage.kind === "s3") {
    const s3 = config.storage.s3;
    const raw = openObjectStore({
      kind: "s3",
      bucket: rawBucket,
      endpoint: s3.endpoint || undefined,
      region: s3.region,
      accessKeyId: s3.access_key_id || undefined,
      secretAccessKey: s3.secret_access_key || undefined,
      forcePathStyle: s3.force_path_style,
    });
    store = prefixRoutedStore(services.store, RAW_PREFIX, raw);
  }
  const deps: LambdaDeps = {
    db: services.db,
    store,
    queue: services.queue,
    config,
    log,
    reports: reportSink(services.db),
    rawBucket,
  };
  log.info("lambda initialised", {
    db: config.db.url === "" ? `pglite:${config.db.data_dir}` : "postgres",
    store: store.kind,
    queue: `${services.queue.kind}:${services.queue.name}`,
    raw_bucket: rawBucket,
  });
  return { handler: lambdaHandler(deps), deps, close: () => services.close() };
}

if (import.meta.main) {
  const log = new Logger();
  // Lambda sends SIGTERM at shutdown when extensions are registered: stop waiting, close clients
  const signal = stopSignal((name) => log.info(`${name} received: runtime shutting down`));
  let close: () => Promise<void> = () => Promise.resolve();
  try {
    const result = await runLambdaRuntime(async () => {
      const lambda = await initLambda();
      close = lambda.close;
      return lambda.handler;
    }, { log, signal });
    await close();
    Deno.exit(result.outcome === "init_error" ? 1 : 0);
  } catch (err) {
    log.error(`lambda runtime stopped: ${describeError(err)}`);
    Deno.exit(1);
  }
}
