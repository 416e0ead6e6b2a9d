/**
 * The queue factory: a configuration section and a queue name in, an adapter out.
 *
 * @module
 */
import { z } from "zod";
import type { Db } from "../db/db.ts";
import type { Queue } from "./queue.ts";
import { type Clock } from "./clock.ts";
import { memoryBroker } from "./memory_queue.ts";
import { PostgresQueue } from "./postgres_queue.ts";
import { SqsQueue } from "./sqs_queue.ts";

const common = {
  visibilitySeconds: z.number().min(0).max(43200).default(300)
    .describe("Seconds a received message stays invisible unless acked or released"),
  maxReceives: z.number().int().min(1).default(5)
    .describe("Receptions before a message goes to the dead-letter queue"),
};

/** The `queue` configuration: in-process, Postgres (the pipeline's database) or SQS. */
export const queueConfigSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("memory"), ...common }).strict(),
  z.object({ kind: z.literal("postgres"), ...common }).strict(),
  z.object({
    kind: z.literal("sqs"),
    ...common,
    endpoint: z.string().url().optional().describe("Endpoint of an SQS-compatible server"),
    region: z.string().default("us-east-1").describe("AWS region"),
    accessKeyId: z.string().optional().describe("Static access key (else the SDK chain)"),
    secretAccessKey: z.string().optional().describe("Static secret key (else the SDK chain)"),
  }).strict(),
]);

/** A queue configuration, as written (defaults not yet applied). */
export type QueueConfig = z.input<typeof queueConfigSchema>;

/** What the adapters need besides the configuration. */
export interface QueueDeps {
  /** The database, for `kind: "postgres"` (not closed by the queue). */
  db?: Db;
  /** The clock of in-process queues (tests). @default systemClock */
  clock?: Clock;
}

/**
 * Opens queue `name` as the configuration says. In-process queues of the same name
 * are shared within the process; SQS queues (and their dead-letter queues) are
 * created when missing.
 */
export async function openQueue(
  config: QueueConfig,
  name: string,
  deps: QueueDeps = {},
): Promise<Queue> {
  const c = queueConfigSchema.parse(config);
  const options = { visibilitySeconds: c.visibilitySeconds, maxReceives: c.maxReceives };
  switch (c.kind) {
    case "memory":
      return memoryBroker.queue(name, { ...options, clock: deps.clock });
    case "postgres":
      if (!deps.db) throw new Error(`queue ${name}: kind "postgres" needs a Db (deps.db)`);
      return new PostgresQueue(deps.db, name, options);
    case "sqs":
      return await SqsQueue.open(name, { ...c, ...options });
  }
}
