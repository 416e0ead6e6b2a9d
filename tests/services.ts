/**
 * The real servers of the integration tier, as `scripts/services.sh start` left
 * them: endpoints read from `.services/env` (the process environment wins over the
 * file), typed per server, with a description for test names.
 *
 * ```ts
 * const sqs = requireService("sqs"); // null (test ignored) when absent; throws when CI=true
 * ```
 *
 * @module
 */

/** Postgres 15 on loopback. */
export interface PostgresService {
  readonly name: "postgres";
  /** postgres:// URL of the test database. */
  readonly url: string;
  readonly version: string;
  /** For test names, e.g. "postgres 15.20 @127.0.0.1:55432". */
  readonly description: string;
}

/** An S3-compatible server (MinIO, or versitygw when MinIO could not be built). */
export interface S3Service {
  readonly name: "s3";
  readonly server: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly version: string;
  /** For test names, e.g. "s3 minio RELEASE.2025-... @127.0.0.1:59000". */
  readonly description: string;
}

/** An SQS-compatible server (ElasticMQ). */
export interface SqsService {
  readonly name: "sqs";
  readonly server: string;
  readonly endpoint: string;
  readonly version: string;
  /** For test names, e.g. "sqs elasticmq 1.7.1 @127.0.0.1:59324". */
  readonly description: string;
}

/** The services by name. */
export interface Services {
  postgres: PostgresService;
  s3: S3Service;
  sqs: SqsService;
}

/** A service name. */
export type ServiceName = keyof Services;

/** Where services.sh writes its env file. */
export const SERVICES_ENV_FILE: string = new URL("../.services/env", import.meta.url).pathname;

/** Parses `KEY=value` lines (blank lines and `#` comments skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The SKYDIFF_TEST_* variables: the env file overlaid by the process environment. */
export function serviceEnv(file: string = SERVICES_ENV_FILE): Record<string, string> {
  let vars: Record<string, string> = {};
  try {
    vars = parseEnvFile(Deno.readTextFileSync(file));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k.startsWith("SKYDIFF_TEST_")) vars[k] = v;
  }
  return vars;
}

function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
}

/** The service when its endpoint is known, else null. Does not contact the server. */
export function findService<N extends ServiceName>(
  name: N,
  env: Record<string, string> = serviceEnv(),
): Services[N] | null {
  return buildService(name, env) as Services[N] | null;
}

function buildService(
  name: ServiceName,
  env: Record<string, string>,
): Services[ServiceName] | null {
  switch (name) {
    case "postgres": {
      const url = env.SKYDIFF_TEST_PG_URL;
      if (!url) return null;
      const version = env.SKYDIFF_TEST_PG_VERSION ?? "?";
      return {
        name,
        url,
        version,
        description: `postgres ${version} @${hostPort(url)}`,
      };
    }
    case "s3": {
      const endpoint = env.SKYDIFF_TEST_S3_ENDPOINT;
      if (!endpoint) return null;
      const server = env.SKYDIFF_TEST_S3_SERVER ?? "s3";
      const version = env.SKYDIFF_TEST_S3_VERSION ?? "?";
      return {
        name,
        server,
        endpoint,
        bucket: env.SKYDIFF_TEST_S3_BUCKET ?? "skydiff-test",
        accessKeyId: env.SKYDIFF_TEST_S3_ACCESS_KEY ?? "",
        secretAccessKey: env.SKYDIFF_TEST_S3_SECRET_KEY ?? "",
        version,
        description: `s3 ${server} ${version} @${hostPort(endpoint)}`,
      };
    }
    case "sqs": {
      const endpoint = env.SKYDIFF_TEST_SQS_ENDPOINT;
      if (!endpoint) return null;
      const server = env.SKYDIFF_TEST_SQS_SERVER ?? "sqs";
      const version = env.SKYDIFF_TEST_SQS_VERSION ?? "?";
      return {
        name,
        server,
        endpoint,
        version,
        description: `sqs ${server} ${version} @${hostPort(endpoint)}`,
      };
    }
  }
}

/** True when running in CI (`CI=true` or `CI=1`), where the integration tier must run. */
export function inCi(): boolean {
  const ci = (Deno.env.get("CI") ?? "").toLowerCase();
  return ci === "true" || ci === "1";
}

/** Why a service is absent, for the names of ignored tests. */
export function absentReason(name: ServiceName): string {
  return `${name} not running: start it with scripts/services.sh start`;
}

/**
 * The service for an integration test, or null when it is not running: register the
 * test with `ignore: true` and a name carrying {@linkcode absentReason}. In CI
 * (`CI=true`) an absent service is an error, because there the tier must run.
 */
export function requireService<N extends ServiceName>(
  name: N,
  env: Record<string, string> = serviceEnv(),
  ci: boolean = inCi(),
): Services[N] | null {
  const found = findService(name, env);
  if (found) return found;
  if (ci) {
    throw new Error(
      `CI=true but ${
        absentReason(name)
      } (no SKYDIFF_TEST_* endpoint in ${SERVICES_ENV_FILE} or the environment)`,
    );
  }
  return null;
}

/** The label of an integration test group: the server's description, or why it is ignored. */
export function serviceLabel(name: ServiceName, service: { description: string } | null): string {
  return service ? service.description : `ignored: ${absentReason(name)}`;
}
