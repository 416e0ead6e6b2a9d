/**
 * Where the e2e tests run a pipeline: the embedded defaults (PGlite in memory,
 * a temporary directory, the in-process queue) and the real servers that
 * scripts/services.sh started (Postgres 15 on a scratch database, MinIO under a
 * fresh key prefix, and ElasticMQ or the Postgres queue). Each environment is
 * new and is removed by `close()`.
 *
 * @module
 */
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { openMigratedPglite, openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { MemoryQueue } from "../../functions/_shared/queue/memory_queue.ts";
import { PostgresQueue } from "../../functions/_shared/queue/postgres_queue.ts";
import { SqsQueue } from "../../functions/_shared/queue/sqs_queue.ts";
import type { Services } from "../../functions/_shared/runtime/handler.ts";
import { FsObjectStore } from "../../functions/_shared/storage/fs_store.ts";
import { openObjectStore } from "../../functions/_shared/storage/open.ts";
import { requireService } from "../services.ts";

/** A fresh place to run a pipeline. */
export interface TestEnv extends Services {
  close(): Promise<void>;
}

/** Makes a fresh environment. */
export type TestEnvFactory = () => Promise<TestEnv>;

/** How the environments are made. */
export interface TestEnvOptions {
  /** Prefix of queue names and object keys (the test's name, for finding leftovers). */
  prefix: string;
  /** @default 30 */
  visibilitySeconds?: number;
  /** @default 3 */
  maxReceives?: number;
}

const pg = requireService("postgres");
const s3 = requireService("s3");
const sqs = requireService("sqs");

function queueOptions(options: TestEnvOptions) {
  return {
    visibilitySeconds: options.visibilitySeconds ?? 30,
    maxReceives: options.maxReceives ?? 3,
  };
}

/** PGlite in memory + a temporary directory + the in-process queue. */
export function embeddedEnv(options: TestEnvOptions): TestEnvFactory {
  return async () => {
    const db = await openMigratedPglite();
    const root = await Deno.makeTempDir({ prefix: `${options.prefix}-` });
    return {
      db,
      store: new FsObjectStore({ root }),
      queue: new MemoryQueue(`${options.prefix}-${crypto.randomUUID()}`, queueOptions(options)),
      async close() {
        await db.close();
        await Deno.remove(root, { recursive: true });
      },
    };
  };
}

/**
 * Postgres 15 + MinIO + ElasticMQ (or, with `queue: "postgres"`, the Postgres
 * queue); null when the servers are not running (tests then register as ignored).
 */
export function serverEnv(
  options: TestEnvOptions,
  queue: "sqs" | "postgres" = "sqs",
): TestEnvFactory | null {
  if (!pg || !s3 || (queue === "sqs" && !sqs)) return null;
  return async () => {
    const db = await openScratchPostgres(pg.url);
    await migrate(db);
    const name = `${options.prefix}-${crypto.randomUUID()}`;
    const q = queue === "sqs"
      ? await SqsQueue.open(name, {
        endpoint: sqs!.endpoint,
        accessKeyId: "skydiff",
        secretAccessKey: "skydiff",
        ...queueOptions(options),
      })
      : new PostgresQueue(db, name, queueOptions(options));
    return {
      db,
      store: openObjectStore({
        kind: "s3",
        bucket: s3.bucket,
        prefix: `${name}/`,
        endpoint: s3.endpoint,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
      }),
      queue: q,
      async close() {
        if (q instanceof SqsQueue) {
          await q.client.send(new DeleteQueueCommand({ QueueUrl: q.url }));
          await q.client.send(new DeleteQueueCommand({ QueueUrl: q.deadLetterUrl }));
        }
        await q.close();
        await db.close();
      },
    };
  };
}

/** The label of the server environment, naming each server. */
export function serverLabel(queue: "sqs" | "postgres" = "sqs"): string {
  return `servers: ${pg?.description ?? "postgres not running"} + ${
    s3?.description ?? "s3 not running"
  } + ${queue === "sqs" ? sqs?.description ?? "sqs not running" : "postgres queue"}`;
}

/** The embedded environment and the servers with ElasticMQ, labelled for test names. */
export function testEnvironments(options: TestEnvOptions): Array<[string, TestEnvFactory | null]> {
  return [
    ["embedded: pglite + fs + memory queue", embeddedEnv(options)],
    [serverLabel("sqs"), serverEnv(options, "sqs")],
  ];
}
