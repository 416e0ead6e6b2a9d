/**
 * ingest: a raw exposure stored in the object store becomes an `exposures` row
 * and the first step messages. Triggered by an object-store event (the S3
 * ObjectCreated event JSON; locally the same JSON) or by `skydiff ingest <file>`.
 * A repeated event finds the row by its object key and changes nothing.
 *
 * This version reads the primary header's standard keywords; instrument-specific
 * translation (sections, DECam keywords) plugs in with the instruments module.
 *
 * @module
 */
import { z } from "zod";
import { HEALPIX_ORDER } from "../_shared/db/schema.ts";
import { ensureProvenance } from "../_shared/db/provenances.ts";
import { enumCode, PROCESS } from "../_shared/db/enums.ts";
import { objectSource } from "../_shared/fits/source.ts";
import { InputError } from "../_shared/errors.ts";
import { openFits } from "../_shared/fits/reader.ts";
import type { Header } from "../_shared/fits/header.ts";
import { formatMessage, newTraceId, type StepMessage } from "../_shared/message.ts";
import type { Process } from "../_shared/processes.ts";
import type { Services } from "../_shared/runtime/handler.ts";
import { ang2pixNest } from "../_shared/sky/mod.ts";

/** The version of the exposure provenance: raw data as delivered. */
export const EXPOSURE_CODE_VERSION = "1.0.0";

/** The part of an S3 ObjectCreated event ingest reads. */
export const S3EventSchema = z.object({
  Records: z.array(z.object({
    eventName: z.string().startsWith("ObjectCreated"),
    s3: z.object({
      bucket: z.object({ name: z.string() }),
      object: z.object({ key: z.string().min(1), size: z.number().optional() }),
    }),
  })).min(1),
});

/** Object keys named by an S3 event (URL-decoded, as S3 encodes them). */
export function keysFromS3Event(event: unknown): string[] {
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
  return parsed.data.Records.map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, " ")));
}

/** Degrees from a FITS angle: a number, or sexagesimal "hh:mm:ss" (hours for RA) / "dd:mm:ss". */
export function parseAngle(value: unknown, hours: boolean): number | null {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (/^[+-]?\d+(\.\d*)?$/.test(text)) return Number(text);
  const match = /^([+-]?)(\d+)[: ](\d+)[: ](\d+(?:\.\d*)?)$/.exec(text);
  if (!match) return null;
  const sign = match[1] === "-" ? -1 : 1;
  const degrees = Number(match[2]) + Number(match[3]) / 60 + Number(match[4]) / 3600;
  return sign * degrees * (hours ? 15 : 1);
}

/** The exposure fields read from a primary header. */
export interface ExposureFields {
  instrument: string;
  telescope: string;
  filter: string | null;
  target: string | null;
  mjd: number;
  exp_time: number;
  airmass: number | null;
  ra: number;
  dec: number;
}

/** Reads the exposure fields from a primary header; an InputError names a missing or bad keyword. */
export function exposureFields(header: Header, file: string): ExposureFields {
  const need = (key: string) => {
    const value = header.get(key);
    if (value === undefined || value === null || value === "") {
      throw new InputError(`${file}: primary header has no ${key}`, { file, card: key });
    }
    return value;
  };
  const number = (key: string) => {
    const value = Number(need(key));
    if (!Number.isFinite(value)) {
      throw new InputError(`${file}: ${key} is not a number`, { file, card: key });
    }
    return value;
  };
  const angle = (key: string, hours: boolean) => {
    const value = parseAngle(need(key), hours);
    if (value === null) {
      throw new InputError(`${file}: ${key} is not an angle`, { file, card: key });
    }
    return value;
  };
  const optional = (key: string) => {
    const value = header.get(key);
    return value === undefined || value === null ? null : String(value).trim();
  };
  const ra = angle("RA", typeof header.get("RA") === "string");
  const dec = angle("DEC", false);
  if (ra < 0 || ra >= 360 || dec < -90 || dec > 90) {
    throw new InputError(`${file}: pointing RA=${ra} DEC=${dec} is off the sky`, {
      file,
      card: "RA",
    });
  }
  const airmass = header.get("AIRMASS");
  return {
    instrument: String(need("INSTRUME")).trim(),
    telescope: String(need("TELESCOP")).trim(),
    filter: optional("FILTER"),
    target: optional("OBJECT"),
    mjd: number("MJD-OBS"),
    exp_time: number("EXPTIME"),
    airmass: typeof airmass === "number" ? airmass : null,
    ra,
    dec,
  };
}

/** Options of {@linkcode ingestObject}. */
export interface IngestOptions {
  /** The provenance tag the run goes under. @default "default" */
  provenanceTag?: string;
  /** The first step to queue. @default "headersummary" */
  firstStep?: Process;
  /** The last step of the run. */
  throughStep?: Process;
}

/** What ingest did. */
export interface IngestResult {
  exposureId: string;
  created: boolean;
  messages: StepMessage[];
}

/** Registers the raw exposure stored at `key` and queues its first step. */
export async function ingestObject(
  services: Services,
  key: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const { db, store, queue } = services;
  const info = await store.head(key);
  if (!info) throw new InputError(`ingest: object ${key} does not exist`, { key });
  const firstStep = options.firstStep ?? "headersummary";
  const messageFor = (exposureId: string): StepMessage => ({
    v: 1,
    step: firstStep,
    exposure_id: exposureId,
    provenance_tag: options.provenanceTag ?? "default",
    through_step: options.throughStep,
    trace_id: newTraceId(),
    attempt: 1,
  });
  const existing = await db.query<{ id: string }>("SELECT id FROM exposures WHERE filepath = $1", [
    key,
  ]);
  if (existing.length > 0) return await resumeIfLost(services, existing[0].id, messageFor);

  const fits = await openFits(objectSource(store, key), { name: key });
  const primary = await fits.hdu(0);
  const fields = exposureFields(primary.header, key);
  const count = await fits.count();
  const provenance = await ensureProvenance(db, {
    process: "exposure",
    codeVersion: EXPOSURE_CODE_VERSION,
    parameters: { instrument: fields.instrument },
    upstreams: [],
  });
  const header: Record<string, unknown> = {};
  for (const k of primary.header.keys()) {
    const v = primary.header.get(k);
    if (k !== "" && k !== "COMMENT" && k !== "HISTORY") {
      header[k] = typeof v === "bigint" ? String(v) : v;
    }
  }
  const id = crypto.randomUUID();
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO exposures (id, provenance_id, instrument, telescope, target, filter, mjd, exp_time,
       airmass, n_sections, ra, dec, healpix, header, filepath, md5)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (filepath) DO NOTHING RETURNING id`,
    [
      id,
      provenance.id,
      fields.instrument,
      fields.telescope,
      fields.target,
      fields.filter,
      fields.mjd,
      fields.exp_time,
      fields.airmass,
      Math.max(0, count - 1),
      fields.ra,
      fields.dec,
      ang2pixNest(HEALPIX_ORDER, fields.ra, fields.dec),
      header,
      key,
      info.md5,
    ],
  );
  if (inserted.length === 0) {
    // a concurrent delivery of the same event registered it first
    const [row] = await db.query<{ id: string }>("SELECT id FROM exposures WHERE filepath = $1", [
      key,
    ]);
    return { exposureId: row.id, created: false, messages: [] };
  }
  const message = messageFor(id);
  await queue.send(formatMessage(message));
  return { exposureId: id, created: true, messages: [message] };
}

/**
 * A repeated event for a known exposure: if its first step never reported (the
 * process that registered it died before queueing), queue it again; the step is
 * idempotent, so a duplicate costs a lookup, while a lost message would lose the exposure.
 */
async function resumeIfLost(
  { db, queue }: Services,
  exposureId: string,
  messageFor: (exposureId: string) => StepMessage,
): Promise<IngestResult> {
  const message = messageFor(exposureId);
  const reported = await db.query(
    "SELECT 1 FROM reports WHERE exposure_id = $1 AND process = $2 LIMIT 1",
    [exposureId, enumCode(PROCESS, message.step)],
  );
  if (reported.length > 0) return { exposureId, created: false, messages: [] };
  await queue.send(formatMessage(message));
  return { exposureId, created: false, messages: [message] };
}
