/**
 * Calibrator files: master frames stored as FITS objects (IMAGE + ERROR) and
 * registered as `calibrator_files` rows with their validity dates, then found by
 * instrument, section, type, filter (flats) and date.
 *
 * The object is written before its row (DESIGN.md: a row is written only after its
 * file is stored), under `calibrators/<instrument>/<section>/<type>[_<filter>]_<id>.fits`.
 *
 * @module
 */
import type { Db } from "../db/db.ts";
import { CALIBRATOR_SET, CALIBRATOR_TYPE, enumCode, enumName, FLAT_TYPE } from "../db/enums.ts";
import { Header } from "../fits/header.ts";
import { readFits } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import type { MasterFrame } from "./master.ts";

/** Kinds of calibrators (names of CALIBRATOR_TYPE). */
export type CalibratorType = "zero" | "dark" | "flat" | "fringe" | "illumination" | "linearity";

/** A calibrator_files row, in our names. */
export interface CalibratorRecord {
  id: string;
  type: CalibratorType;
  /** "externally_supplied", "general" or "nightly". */
  set: string;
  /** Flats: "dome", "sky", "twilight", ...; else null. */
  flatType: string | null;
  instrument: string;
  sectionId: string;
  /** Band of a filter-dependent calibrator (flats), else null. */
  filter: string | null;
  validFrom: Date | null;
  validUntil: Date | null;
  filepath: string;
  md5: string;
  info: Record<string, unknown>;
}

/** What to register. */
export interface NewCalibrator {
  type: CalibratorType;
  instrument: string;
  sectionId: string;
  /** Required for flats. */
  filter?: string | null;
  /** Validity range (null: open). */
  validFrom?: Date | null;
  validUntil?: Date | null;
  /** @default "general" */
  set?: "externally_supplied" | "general" | "nightly";
  /** For flats. @default "dome" */
  flatType?: "externally_supplied" | "sky" | "twilight" | "dome";
  frame: MasterFrame;
  /** Extra info stored in the row (JSON). */
  info?: Record<string, unknown>;
}

/** The FITS bytes of a master frame: IMAGE and ERROR extensions. */
export function masterFrameFits(
  frame: MasterFrame,
  cards: Array<[string, string | number, string]>,
) {
  const header = Header.from([
    ...cards,
    ["NCOMBINE", frame.nFrames, "frames combined"],
    ["MEDIAN", frame.median, "clipped median of the image"],
    ["STDDEV", frame.std, "clipped standard deviation of the image"],
  ]);
  return writeFits([
    { header },
    { name: "IMAGE", data: frame.image, axes: [frame.nx, frame.ny] },
    { name: "ERROR", data: frame.error, axes: [frame.nx, frame.ny] },
  ]);
}

/** Stores a master frame and registers it; returns its row. */
export async function saveCalibrator(
  db: Db,
  store: ObjectStore,
  c: NewCalibrator,
): Promise<CalibratorRecord> {
  if (c.type === "flat" && !c.filter) throw new RangeError("a flat needs a filter");
  const id = crypto.randomUUID();
  const filter = c.type === "flat" ? c.filter! : (c.filter ?? null);
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_");
  const key = `calibrators/${safe(c.instrument)}/${safe(c.sectionId)}/${c.type}` +
    `${filter ? `_${safe(filter)}` : ""}_${id}.fits`;
  const bytes = masterFrameFits(c.frame, [
    ["INSTRUME", c.instrument, "instrument"],
    ["DETPOS", c.sectionId, "section"],
    ["CALTYPE", c.type, "calibrator type"],
    ...(filter ? [["FILTER", filter, "band"] as [string, string, string]] : []),
  ]);
  const stored = await store.put(key, bytes, { contentType: "application/fits" });
  const set = c.set ?? "general";
  const flatType = c.type === "flat" ? (c.flatType ?? "dome") : null;
  const info = {
    ...(c.info ?? {}),
    nframes: c.frame.nFrames,
    median: c.frame.median,
    std: c.frame.std,
  };
  await db.query(
    `INSERT INTO calibrator_files (id, type, calibrator_set, flat_type, instrument, section_id,
       filter, valid_from, valid_until, info, filepath, md5)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      id,
      enumCode(CALIBRATOR_TYPE, c.type),
      enumCode(CALIBRATOR_SET, set),
      flatType ? enumCode(FLAT_TYPE, flatType) : null,
      c.instrument,
      c.sectionId,
      filter,
      c.validFrom ?? null,
      c.validUntil ?? null,
      JSON.stringify(info),
      key,
      stored.md5,
    ],
  );
  return {
    id,
    type: c.type,
    set,
    flatType,
    instrument: c.instrument,
    sectionId: c.sectionId,
    filter,
    validFrom: c.validFrom ?? null,
    validUntil: c.validUntil ?? null,
    filepath: key,
    md5: stored.md5,
    info,
  };
}

/** What to look for. */
export interface CalibratorQuery {
  instrument: string;
  sectionId: string;
  type: CalibratorType;
  /** Band: flats must match it; other types match a null filter or this one. */
  filter?: string | null;
  /** The date the calibrator must be valid at. */
  date: Date;
}

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(String(v));
}

/**
 * The calibrator valid at the date (valid_from <= date < valid_until, open ends
 * allowed); among several, the one whose validity started last, then the newest.
 * Null when none.
 */
export async function findCalibrator(db: Db, q: CalibratorQuery): Promise<CalibratorRecord | null> {
  const filterClause = q.type === "flat"
    ? "filter = $4"
    : "(filter IS NULL OR filter = $4 OR $4::text IS NULL)";
  const rows = await db.query(
    `SELECT id, type, calibrator_set, flat_type, instrument, section_id, filter, valid_from,
            valid_until, info, filepath, md5
       FROM calibrator_files
      WHERE instrument = $1 AND section_id = $2 AND type = $3 AND ${filterClause}
        AND (valid_from IS NULL OR valid_from <= $5)
        AND (valid_until IS NULL OR $5 < valid_until)
        AND filepath IS NOT NULL
      ORDER BY valid_from DESC NULLS LAST, created_at DESC
      LIMIT 1`,
    [q.instrument, q.sectionId, enumCode(CALIBRATOR_TYPE, q.type), q.filter ?? null, q.date],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  return {
    id: String(r.id),
    type: enumName(CALIBRATOR_TYPE, Number(r.type)) as CalibratorType,
    set: enumName(CALIBRATOR_SET, Number(r.calibrator_set)),
    flatType: r.flat_type === null ? null : enumName(FLAT_TYPE, Number(r.flat_type)),
    instrument: String(r.instrument),
    sectionId: String(r.section_id),
    filter: r.filter === null ? null : String(r.filter),
    validFrom: toDate(r.valid_from),
    validUntil: toDate(r.valid_until),
    filepath: String(r.filepath),
    md5: String(r.md5),
    info: (typeof r.info === "string" ? JSON.parse(r.info) : r.info) as Record<string, unknown>,
  };
}

/** Reads a registered calibrator's frame back (MD5 checked). */
export async function loadCalibrator(
  store: ObjectStore,
  rec: CalibratorRecord,
): Promise<MasterFrame> {
  const bytes = await store.get(rec.filepath, { md5: rec.md5 });
  const f = await readFits(bytes);
  const img = await f.image("IMAGE");
  const err = await f.image("ERROR");
  const h = (await f.hdu(0)).header;
  return {
    image: img.data as Float32Array,
    error: err.data as Float32Array,
    nx: img.axes[0],
    ny: img.axes[1],
    nFrames: h.getNumber("NCOMBINE") ?? 0,
    median: h.getNumber("MEDIAN") ?? NaN,
    std: h.getNumber("STDDEV") ?? NaN,
  };
}
