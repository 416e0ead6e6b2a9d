/**
 * Jobs: coadds and references asked for through the API. A job is a `jobs` row
 * (sql/0005_jobs.sql) plus one message on the jobs queue.
 *
 * The job message format is {@linkcode JobMessageSchema}: `{v, job_id, kind,
 * trace_id, attempt}` — a reference to the row, whose `request` holds the
 * parameters. Job messages go on their own queue, named by {@linkcode jobQueueName}
 * (`<queue.name>-jobs`), not on the step queue: the step worker's strict
 * StepMessage parser would dead-letter them. The worker side (take a message,
 * mark the job running, run CoaddPipeline / RefMaker with the request, store
 * `result` or `error`) comes with the coadd and reference pipelines; it should use
 * {@linkcode parseJobMessage}, {@linkcode getJob} and {@linkcode updateJob}.
 *
 * @module
 */
import { z } from "zod";
import type { Db } from "../_shared/db/db.ts";
import { enumCode, type EnumMap, enumName } from "../_shared/db/enums.ts";
import { newTraceId } from "../_shared/message.ts";
import type { Queue } from "../_shared/queue/queue.ts";
import { openQueue } from "../_shared/queue/open.ts";
import type { QueueSettings } from "../_shared/settings.ts";

/** `jobs.kind`. */
export const JOB_KIND: EnumMap<"coadd" | "reference"> = Object.freeze({
  1: "coadd",
  2: "reference",
});

/** `jobs.status`. */
export const JOB_STATUS: EnumMap<"queued" | "running" | "succeeded" | "failed"> = Object.freeze({
  1: "queued",
  2: "running",
  3: "succeeded",
  4: "failed",
});

/** A job kind name. */
export type JobKind = "coadd" | "reference";
/** A job status name. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed";

const name = z.string().trim().min(1).max(64);

const coaddFields = {
  ra: z.number().min(0).lt(360).describe("right ascension of the place (deg, ICRS)"),
  dec: z.number().min(-90).max(90).describe("declination (deg)"),
  filter: name.describe("the filter of the images to coadd"),
  min_mjd: z.number().min(0).max(200000).optional().describe(
    "images from this MJD (default: the coadd pipeline's, 7 days before max_mjd)",
  ),
  max_mjd: z.number().min(0).max(200000).optional().describe(
    "images until this MJD (default: now)",
  ),
  instruments: z.array(name).min(1).max(16).optional().describe(
    "allowed instruments (default any)",
  ),
  section_id: name.optional().describe("only images of this section"),
  target: name.optional().describe("only images of this target (field)"),
  provenance_tag: name.optional().describe("provenance tag of the inputs (default the pipeline's)"),
};

const timeOrdered = (r: { min_mjd?: number; max_mjd?: number }) =>
  r.min_mjd === undefined || r.max_mjd === undefined || r.min_mjd < r.max_mjd;
const timeOrder = () => ({ message: "max_mjd must be after min_mjd", path: ["max_mjd"] });

/** What POST /coadds accepts: a place, a filter and an optional time range. */
export const CoaddRequestSchema = z.object(coaddFields).strict().refine(timeOrdered, timeOrder());

/** What POST /references accepts: a coadd request plus the RefSet to put it in. */
export const ReferenceRequestSchema = z.object({
  ...coaddFields,
  refset: name.describe("the RefSet (by name) the reference belongs to"),
  allow_append: z.boolean().optional().describe(
    "allow appending this reference provenance to an existing RefSet (default the RefMaker's)",
  ),
}).strict().refine(timeOrdered, timeOrder());

/** A coadd request. */
export type CoaddRequest = z.infer<typeof CoaddRequestSchema>;
/** A reference request. */
export type ReferenceRequest = z.infer<typeof ReferenceRequestSchema>;

/** The job message format version. */
export const JOB_MESSAGE_VERSION = 1;

/** A job message: a reference to a `jobs` row. */
export const JobMessageSchema = z.object({
  v: z.literal(JOB_MESSAGE_VERSION).describe("job message format version"),
  job_id: z.uuid().describe("the jobs row"),
  kind: z.enum(["coadd", "reference"]).describe("what to build"),
  trace_id: z.string().min(8).max(64).describe("ties every log line of the job together"),
  attempt: z.int().min(1).describe("how many times the job has been sent"),
}).strict();

/** A job message. */
export type JobMessage = z.infer<typeof JobMessageSchema>;

/** Parses a job message body (throws a ZodError or SyntaxError when malformed). */
export function parseJobMessage(body: string): JobMessage {
  return JobMessageSchema.parse(JSON.parse(body));
}

/** A job as stored. */
export interface Job {
  id: string;
  kind: JobKind;
  request: Record<string, unknown>;
  status: JobStatus;
  result: Record<string, unknown> | null;
  error: string | null;
  traceId: string | null;
  attempts: number;
  createdAt: Date;
  modifiedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The name of the jobs queue that goes with step queue `stepQueue`. */
export function jobQueueName(stepQueue: string): string {
  return `${stepQueue}-jobs`;
}

/** Opens the jobs queue as the `queue` configuration section says (db for kind postgres). */
export async function openJobQueue(
  settings: z.infer<typeof QueueSettings>,
  db: Db,
): Promise<Queue> {
  const common = {
    visibilitySeconds: settings.visibility_seconds,
    maxReceives: settings.max_receives,
  };
  const orUndefined = (v: string) => (v === "" ? undefined : v);
  const name = jobQueueName(settings.name);
  if (settings.kind === "sqs") {
    return await openQueue({
      kind: "sqs",
      ...common,
      endpoint: orUndefined(settings.sqs.endpoint),
      region: settings.sqs.region,
      accessKeyId: orUndefined(settings.sqs.access_key_id),
      secretAccessKey: orUndefined(settings.sqs.secret_access_key),
    }, name);
  }
  return await openQueue({ kind: settings.kind, ...common }, name, { db });
}

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

function jobFromRow(r: Record<string, unknown>): Job {
  return {
    id: String(r.id),
    kind: enumName(JOB_KIND, Number(r.kind)),
    request: r.request as Record<string, unknown>,
    status: enumName(JOB_STATUS, Number(r.status)),
    result: (r.result ?? null) as Record<string, unknown> | null,
    error: (r.error ?? null) as string | null,
    traceId: (r.trace_id ?? null) as string | null,
    attempts: Number(r.attempts),
    createdAt: date(r.created_at)!,
    modifiedAt: date(r.modified_at)!,
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
  };
}

/**
 * Creates a job (status queued) and sends its message. When the message cannot
 * be sent the job is marked failed with the reason and the error is rethrown.
 */
export async function submitJob(
  db: Db,
  queue: Queue,
  kind: JobKind,
  request: CoaddRequest | ReferenceRequest,
): Promise<Job> {
  const id = crypto.randomUUID();
  const traceId = newTraceId();
  const [row] = await db.query(
    `INSERT INTO jobs (id, kind, request, status, trace_id) VALUES ($1, $2, $3, $4, $5)
     RETURNING *`,
    [id, enumCode(JOB_KIND, kind), request, enumCode(JOB_STATUS, "queued"), traceId],
  );
  const message: JobMessage = {
    v: JOB_MESSAGE_VERSION,
    job_id: id,
    kind,
    trace_id: traceId,
    attempt: 1,
  };
  try {
    await queue.send(JSON.stringify(JobMessageSchema.parse(message)));
  } catch (err) {
    await updateJob(db, id, {
      status: "failed",
      error: `could not queue: ${(err as Error).message}`,
    });
    throw err;
  }
  return jobFromRow(row);
}

/** The job of an id, or null. */
export async function getJob(db: Db, id: string): Promise<Job | null> {
  const rows = await db.query("SELECT * FROM jobs WHERE id = $1", [id]);
  return rows.length === 0 ? null : jobFromRow(rows[0]);
}

/**
 * Moves a job along: running sets `started_at` and counts an attempt; succeeded
 * and failed set `finished_at`. Returns the updated job, or null when absent.
 */
export async function updateJob(
  db: Db,
  id: string,
  change: { status: JobStatus; result?: Record<string, unknown>; error?: string },
): Promise<Job | null> {
  const status = enumCode(JOB_STATUS, change.status);
  const rows = await db.query(
    `UPDATE jobs SET status = $2::smallint,
        result = COALESCE($3::jsonb, result),
        error = COALESCE($4::text, error),
        attempts = attempts + CASE WHEN $2::smallint = 2 THEN 1 ELSE 0 END,
        started_at = CASE WHEN $2::smallint = 2 THEN now() ELSE started_at END,
        finished_at = CASE WHEN $2::smallint IN (3, 4) THEN now() ELSE NULL END
      WHERE id = $1 RETURNING *`,
    [id, status, change.result ?? null, change.error ?? null],
  );
  return rows.length === 0 ? null : jobFromRow(rows[0]);
}

/** The JSON of a job in API responses. */
export function jobJson(job: Job): Record<string, unknown> {
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    request: job.request,
    result: job.result,
    error: job.error,
    trace_id: job.traceId,
    attempts: job.attempts,
    created_at: job.createdAt.toISOString(),
    modified_at: job.modifiedAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    links: { self: `/jobs/${job.id}` },
  };
}
