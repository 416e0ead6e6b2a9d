/**
 * Schemas of the platform's configuration sections (db, storage, queue, log,
 * pipeline, worker). Steps add their own sections (see functions/config.ts).
 * Every field has its default here and, with a comment, in config/default.yaml.
 *
 * @module
 */
import { z } from "zod";
import { PROCESSES } from "./processes.ts";

/** Where metadata lives. */
export const DbSettings = z.object({
  url: z.string().default("").describe(
    "postgres://user:pass@host:port/db for a server; empty for embedded PGlite",
  ),
  data_dir: z.string().default("data/db").describe(
    "PGlite data directory when url is empty; 'memory' keeps it in memory",
  ),
  pool_size: z.int().min(1).default(4).describe("connections per process (server mode)"),
}).strict();

/** Where pixels live. */
export const StorageSettings = z.object({
  kind: z.enum(["fs", "s3"]).default("fs").describe("fs: a local directory; s3: an S3 bucket"),
  root: z.string().default("data/store").describe("the directory of the fs store"),
  s3: z.object({
    endpoint: z.string().default("").describe("S3 endpoint URL; empty for AWS's"),
    bucket: z.string().default("skydiff").describe("bucket name"),
    region: z.string().default("us-east-1").describe("region"),
    force_path_style: z.boolean().default(true).describe("path-style URLs (MinIO, Ceph)"),
    access_key_id: z.string().default("").describe("empty: the SDK's default credentials"),
    secret_access_key: z.string().default("").describe("empty: the SDK's default credentials"),
    part_size_mb: z.number().min(5).default(16).describe("multipart part size"),
  }).strict().prefault({}),
}).strict();

/** How work is handed out. */
export const QueueSettings = z.object({
  kind: z.enum(["memory", "postgres", "sqs"]).default("memory").describe(
    "memory: in-process; postgres: a table with SKIP LOCKED; sqs: SQS or ElasticMQ",
  ),
  name: z.string().default("skydiff-steps").describe("the step queue's name"),
  visibility_seconds: z.int().min(1).default(900).describe(
    "a received message is hidden this long before it is redelivered",
  ),
  max_receives: z.int().min(1).default(3).describe(
    "receptions before a message goes to the dead-letter queue",
  ),
  retry_delay_seconds: z.int().min(0).default(30).describe(
    "delay before a failed message is retried",
  ),
  sqs: z.object({
    endpoint: z.string().default("").describe("SQS endpoint URL; empty for AWS's"),
    region: z.string().default("us-east-1").describe("region"),
    access_key_id: z.string().default("").describe("empty: the SDK's default credentials"),
    secret_access_key: z.string().default("").describe("empty: the SDK's default credentials"),
  }).strict().prefault({}),
}).strict();

/** What the logs say. */
export const LogSettings = z.object({
  level: z.enum(["debug", "info", "warn", "error"]).default("info").describe(
    "lines below this level are dropped",
  ),
}).strict();

/** What a run does by default. */
export const PipelineSettings = z.object({
  provenance_tag: z.string().min(1).default("default").describe(
    "the provenance tag runs are recorded under",
  ),
  first_step: z.enum(PROCESSES).default("preprocessing").describe(
    "the step ingest queues for a new exposure (headersummary: only record its headers)",
  ),
  through_step: z.enum(PROCESSES).default("photocal").describe(
    "the last step a run goes through (the steps after photocal are not built yet)",
  ),
}).strict();

/** How `skydiff worker` polls. */
export const WorkerSettings = z.object({
  wait_seconds: z.int().min(0).max(20).default(10).describe(
    "long-poll this long when the queue is empty",
  ),
  batch_size: z.int().min(1).max(10).default(1).describe("messages taken per poll"),
}).strict();

/** The platform's sections, by name. */
export const PLATFORM_SECTIONS = {
  db: DbSettings.prefault({}),
  storage: StorageSettings.prefault({}),
  queue: QueueSettings.prefault({}),
  log: LogSettings.prefault({}),
  pipeline: PipelineSettings.prefault({}),
  worker: WorkerSettings.prefault({}),
} as const;
