/**
 * `reports` rows: one per (exposure, section, process, provenance) — or per
 * (image, process, provenance) — updated by each attempt, so a retried step
 * leaves one row that says how its last attempt went.
 *
 * @module
 */
import type { Report, ReportSink } from "../runtime/dispatch.ts";
import type { Db } from "./db.ts";
import { enumCode, PROCESS, REPORT_STATUS } from "./enums.ts";
import { withAdvisoryLock } from "./lock.ts";
import { SQLSTATE, sqlState } from "./errors.ts";

const STATUS_BY_OUTCOME: Record<Report["outcome"], string> = {
  done: "succeeded",
  reused: "succeeded",
  no_work: "no_work",
  bad_data: "algorithm_error",
  bad_input: "input_error",
  retry: "failed",
};

/** Writes (or updates) the report of one step attempt; skips reports with no subject. */
export async function recordReport(
  db: Db,
  report: Report,
  worker = Deno.hostname(),
): Promise<boolean> {
  const m = report.message;
  const exposureId = m.exposure_id ?? null;
  const imageId = m.image_id ?? null;
  if (exposureId === null && imageId === null) return false;
  const sectionId = m.section_id ?? null;
  const process = enumCode(PROCESS, m.step);
  const provenanceId = report.provenanceId ?? null;
  const [errorType, ...rest] = (report.error ?? "").split(": ");
  const values = [
    enumCode(REPORT_STATUS, STATUS_BY_OUTCOME[report.outcome]),
    m.trace_id,
    worker,
    m.attempt,
    report.runtimeMs,
    report.peakMemoryMb,
    JSON.stringify(report.warnings),
    report.error ? errorType : null,
    report.error ? rest.join(": ") : null,
    report.metrics,
  ];
  try {
    await writeReport(db, [exposureId, sectionId, imageId, process, provenanceId], values);
  } catch (err) {
    if (sqlState(err) === SQLSTATE.foreignKeyViolation) return false;
    throw err;
  }
  return true;
}

async function writeReport(
  db: Db,
  [exposureId, sectionId, imageId, process, provenanceId]: unknown[],
  values: unknown[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await withAdvisoryLock(
      tx,
      `report:${exposureId}:${sectionId}:${imageId}:${process}:${provenanceId}`,
    );
    const existing = await tx.query<{ id: string }>(
      `SELECT id FROM reports WHERE exposure_id IS NOT DISTINCT FROM $1
         AND section_id IS NOT DISTINCT FROM $2 AND image_id IS NOT DISTINCT FROM $3
         AND process = $4 AND provenance_id IS NOT DISTINCT FROM $5`,
      [exposureId, sectionId, imageId, process, provenanceId],
    );
    if (existing.length > 0) {
      await tx.query(
        `UPDATE reports SET status = $2, trace_id = $3, worker = $4, attempt = $5,
           finished_at = now(), runtime_ms = $6, peak_memory_mb = $7, warnings = $8::jsonb,
           error_type = $9, error_message = $10, metrics = $11 WHERE id = $1`,
        [existing[0].id, ...values],
      );
      return;
    }
    await tx.query(
      `INSERT INTO reports (id, exposure_id, section_id, image_id, process, provenance_id,
         status, trace_id, worker, attempt, finished_at, runtime_ms, peak_memory_mb, warnings,
         error_type, error_message, metrics)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), $11, $12, $13::jsonb, $14, $15, $16)`,
      [crypto.randomUUID(), exposureId, sectionId, imageId, process, provenanceId, ...values],
    );
  });
}

/** A {@linkcode ReportSink} writing to `db`. */
export function reportSink(db: Db): ReportSink {
  return async (report) => {
    await recordReport(db, report);
  };
}
