/**
 * The cloud stack's settings: every name and size the CDK app uses, with its
 * default. Read from `infra/config.yaml` when present (only the keys you change),
 * validated here; the pipeline's own settings the stack must agree with (queue
 * name, visibility timeout, receptions before dead-lettering, batch size, log
 * level, provenance tag) come from the skydiff configuration (config/default.yaml
 * < $SKYDIFF_CONFIG) and are passed on to the functions, so the deployed queue
 * and the code that opens it cannot disagree.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { type Config, loadConfig } from "../functions/config.ts";

/** Log retention periods CloudWatch accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1,
  3,
  5,
  7,
  14,
  30,
  60,
  90,
  120,
  150,
  180,
  365,
  400,
  545,
  731,
  1096,
  1827,
  2192,
  2557,
  2922,
  3288,
  3653,
] as const;

/** AWS's advice: an SQS event source's visibility timeout is at least 6x the function timeout. */
export const VISIBILITY_TO_TIMEOUT = 6;

const FunctionSettings = (memory: number, timeout: number, storage: number) =>
  z.object({
    memory_mb: z.int().min(128).max(10240).default(memory).describe("function memory (MB)"),
    timeout_seconds: z.int().min(1).max(900).default(timeout).describe("function timeout (s)"),
    ephemeral_storage_mb: z.int().min(512).max(10240).default(storage).describe(
      "size of /tmp (MB); the Deno cache is copied there at cold start",
    ),
  });

/** The schema of infra/config.yaml. */
export const InfraConfigSchema = z.object({
  stack_name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/).default("skydiff").describe(
    "CloudFormation stack name",
  ),
  account: z.string().default("").describe("AWS account; empty: $CDK_DEFAULT_ACCOUNT"),
  region: z.string().default("").describe("AWS region; empty: $CDK_DEFAULT_REGION"),
  buckets: z.object({
    raw_name: z.string().default("").describe("raw-data bucket name; empty: generated"),
    products_name: z.string().default("").describe("products bucket name; empty: generated"),
    raw_suffixes: z.array(z.string().min(1)).default([".fits", ".fits.fz", ".fits.gz"]).describe(
      "object-name endings in the raw bucket that trigger ingest (one notification each)",
    ),
    retain: z.boolean().default(true).describe(
      "keep buckets (and the database) when the stack is deleted",
    ),
  }).strict().prefault({}),
  step_function: FunctionSettings(3008, 150, 2048).extend({
    max_concurrency: z.int().min(2).max(1000).default(50).describe(
      "most concurrent step invocations the SQS event source starts (bounds database connections)",
    ),
    max_batching_window_seconds: z.int().min(0).max(300).default(0).describe(
      "wait this long to fill a batch",
    ),
  }).strict().prefault({}),
  ingest_function: FunctionSettings(1024, 120, 1024).extend({
    retry_attempts: z.int().min(0).max(2).default(2).describe(
      "retries of a failed S3-triggered invocation before it goes to the ingest failure queue",
    ),
  }).strict().prefault({}),
  database: z.object({
    instance_class: z.string().default("t4g.medium").describe("RDS instance class (without db.)"),
    allocated_storage_gb: z.int().min(20).default(100).describe("initial storage"),
    max_allocated_storage_gb: z.int().min(20).default(1000).describe("storage autoscaling limit"),
    multi_az: z.boolean().default(false).describe("a standby in a second AZ"),
    database_name: z.string().regex(/^[a-z][a-z0-9_]*$/).default("skydiff").describe(
      "database created in the instance",
    ),
    username: z.string().default("skydiff").describe("master user; the password is generated"),
    backup_retention_days: z.int().min(0).max(35).default(7).describe("automated backups kept"),
    deletion_protection: z.boolean().default(true).describe("refuse to delete the instance"),
    pool_size: z.int().min(1).max(10).default(2).describe("connections per function instance"),
  }).strict().prefault({}),
  network: z.object({
    max_azs: z.int().min(2).max(6).default(2).describe("availability zones of the VPC"),
    nat_gateways: z.int().min(0).default(1).describe(
      "NAT gateways; 0 adds interface endpoints for SQS and Secrets Manager instead",
    ),
  }).strict().prefault({}),
  alarms: z.object({
    oldest_message_age_seconds: z.int().min(60).default(3600).describe(
      "alarm when the oldest step message waits longer",
    ),
    function_errors: z.int().min(1).default(1).describe(
      "alarm when a function reports this many errors in a period",
    ),
    period_seconds: z.int().min(60).default(300).describe("alarm evaluation period"),
    email: z.string().default("").describe(
      "subscribe this address to the alarm topic; empty: none",
    ),
  }).strict().prefault({}),
  logs: z.object({
    retention_days: z.union(LOG_RETENTION_DAYS.map((d) => z.literal(d))).default(30).describe(
      "CloudWatch log retention",
    ),
  }).strict().prefault({}),
  lambda: z.object({
    asset_dir: z.string().default("infra/cdk.out/lambda-build/function").describe(
      "function code: bootstrap + sources + Deno cache (infra/build_lambda.ts)",
    ),
    deno_layer_dir: z.string().default("infra/cdk.out/lambda-build/deno-layer").describe(
      "layer with bin/deno (infra/build_lambda.ts)",
    ),
  }).strict().prefault({}),
}).strict();

/** The validated infra settings. */
export type InfraConfig = z.infer<typeof InfraConfigSchema>;

/** The skydiff settings the stack reads (and passes on to the functions). */
export type PipelineConfig = Pick<Config, "queue" | "worker" | "log" | "pipeline">;

/** Everything the stack is built from. */
export interface StackSettings {
  infra: InfraConfig;
  pipeline: PipelineConfig;
}

/** A setting the stack cannot be built with. */
export class InfraConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InfraConfigError";
  }
}

/** Validates values (e.g. parsed YAML); errors name the key. */
export function parseInfraConfig(values: unknown, source = "infra config"): InfraConfig {
  const parsed = InfraConfigSchema.safeParse(values ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.code === "unrecognized_keys"
      ? [...issue.path.map(String), issue.keys[0]].join(".")
      : issue.path.map(String).join(".");
    throw new InfraConfigError(`${source}: key "${key}": ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Checks what the schemas cannot: the step queue's visibility timeout (the
 * pipeline's `queue.visibility_seconds`) is at least 6x the step function's
 * timeout, so a message is not redelivered while a slow invocation still holds it.
 */
export function checkSettings(settings: StackSettings): StackSettings {
  const timeout = settings.infra.step_function.timeout_seconds;
  const visibility = settings.pipeline.queue.visibility_seconds;
  if (visibility < VISIBILITY_TO_TIMEOUT * timeout) {
    throw new InfraConfigError(
      `queue.visibility_seconds (${visibility}) must be at least ${VISIBILITY_TO_TIMEOUT}x ` +
        `step_function.timeout_seconds (${timeout}): raise it to ${
          VISIBILITY_TO_TIMEOUT * timeout
        } ` +
        "in the skydiff config or lower the timeout in infra/config.yaml",
    );
  }
  // S3 refuses overlapping notification filters (one suffix ending another)
  const suffixes = settings.infra.buckets.raw_suffixes;
  for (const a of suffixes) {
    const b = suffixes.find((other) => other !== a && a.endsWith(other));
    if (b !== undefined) {
      throw new InfraConfigError(`buckets.raw_suffixes: "${a}" overlaps "${b}" (S3 refuses both)`);
    }
  }
  if (
    settings.infra.database.max_allocated_storage_gb < settings.infra.database.allocated_storage_gb
  ) {
    throw new InfraConfigError("database.max_allocated_storage_gb is below allocated_storage_gb");
  }
  return settings;
}

/** The default path of the infra settings file. */
export const INFRA_CONFIG_PATH = new URL("./config.yaml", import.meta.url).pathname;

/**
 * Loads infra/config.yaml (when present) and the skydiff configuration, and
 * checks them together.
 */
export async function loadStackSettings(
  path: string = Deno.env.get("SKYDIFF_INFRA_CONFIG") ?? INFRA_CONFIG_PATH,
): Promise<StackSettings> {
  let values: unknown = {};
  try {
    values = parseYaml(await Deno.readTextFile(path)) ?? {};
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new InfraConfigError(`${path}: ${(err as Error).message}`);
    }
  }
  const config = await loadConfig();
  return checkSettings({
    infra: parseInfraConfig(values, path),
    pipeline: {
      queue: config.queue,
      worker: config.worker,
      log: config.log,
      pipeline: config.pipeline,
    },
  });
}
