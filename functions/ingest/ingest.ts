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
import { type FitsFile, openFits } from "../_shared/fits/reader.ts";
import { getInstrument } from "../_shared/instruments/registry.ts";
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
  /**
   * The first step to queue: "headersummary" (one message per exposure) or a
   * per-section step such as "preprocessing" (one message per section of the raw
   * file, the sections found with the instrument's sectionOf). @default "preprocessing"
   */
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

/** Steps that take one message per exposure; every other first step gets one per section. */
const PER_EXPOSURE: readonly Process[] = ["headersummary"];

/** The sections (CCDs) of a raw file, in file order, by the instrument's sectionOf. */
export async function rawSections(fits: FitsFile, instrumentName: string): Promise<string[]> {
  let instrument;
  try {
    // every section name the instrument has (SimCam: all 62 DECam names)
    instrument = getInstrument(instrumentName, { nCcd: 62 });
  } catch (err) {
    throw new InputError(`ingest: ${(err as Error).message}`, { card: "INSTRUME" });
  }
  const ids: string[] = [];
  for (const hdu of await fits.hdus()) {
    if (hdu.index === 0 || hdu.kind !== "image") continue;
    const id = instrument.sectionOf(hdu.header);
    if (id !== null) ids.push(id);
  }
  return ids;
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
  const firstStep = options.firstStep ?? "preprocessing";
  const perSection = !PER_EXPOSURE.includes(firstStep);
  const messageFor = (exposureId: string, sectionId?: string): StepMessage => ({
    v: 1,
    step: firstStep,
    exposure_id: exposureId,
    ...(sectionId ? { section_id: sectionId } : {}),
    provenance_tag: options.provenanceTag ?? "default",
    through_step: options.throughStep,
    trace_id: newTraceId(),
    attempt: 1,
  });
  const fits = await openFits(objectSource(store, key), { name: key });
  const primary = await fits.hdu(0);
  const fields = exposureFields(primary.header, key);
  const sections = perSection ? await rawSections(fits, fields.instrument) : [];
  if (perSection && sections.length === 0) {
    throw new InputError(`ingest: ${key} has no ${fields.instrument} section`, { key });
  }
  const messagesFor = (exposureId: string) =>
    perSection ? sections.map((s) => messageFor(exposureId, s)) : [messageFor(exposureId)];
  const existing = await db.query<{ id: string }>("SELECT id FROM exposures WHERE filepath = $1", [
    key,
  ]);
  if (existing.length > 0) return await resumeIfLost(services, existing[0].id, messagesFor);

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
  const messages = messagesFor(id);
  for (const message of messages) await queue.send(formatMessage(message));
  return { exposureId: id, created: true, messages };
}

/**
 * A repeated event for a known exposure: queue again each first-step message
 * (per exposure or per section) that never reported (the process that registered
 * it died before queueing); the step is idempotent, so a duplicate costs a
 * lookup, while a lost message would lose the exposure (or a section of it).
 */
async function resumeIfLost(
  { db, queue }: Services,
  exposureId: string,
  messagesFor: (exposureId: string) => StepMessage[],
): Promise<IngestResult> {
  const sent: StepMessage[] = [];
  for (const message of messagesFor(exposureId)) {
    const reported = await db.query(
      `SELECT 1 FROM reports WHERE exposure_id = $1 AND process = $2
          AND section_id IS NOT DISTINCT FROM $3 LIMIT 1`,
      [exposureId, enumCode(PROCESS, message.step), message.section_id ?? null],
    );
    if (reported.length > 0) continue;
    await queue.send(formatMessage(message));
    sent.push(message);
  }
  return { exposureId, created: false, messages: sent };
}
