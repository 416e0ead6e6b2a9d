/**
 * Sky objects: the positions detections associate with. A detection joins the
 * nearest object within the association radius, or creates a new named object
 * there, exactly once even when several workers measure detections at the same
 * place at the same time.
 *
 * How the "exactly once" holds: inside a transaction, the worker first takes a
 * transaction-scoped advisory lock on every NESTED HEALPix pixel (order
 * {@linkcode OBJECT_LOCK_ORDER}) that the association cone touches, in
 * increasing pixel order (so two workers never wait on each other in a cycle),
 * and only then searches the cone and inserts. Two detections closer than the
 * radius always share at least one locked pixel (each cone contains the other
 * detection's pixel and its own), so the second worker waits until the first
 * commits, then (READ COMMITTED: a fresh snapshot per statement) finds its object.
 *
 * Names, TNS-like: the UTC year of the detection's MJD followed by a bijective
 * base-26 lowercase counter, "2026a" ... "2026z", "2026aa" ... "2026zz",
 * "2026aaa" ... (see {@linkcode objectNameSuffix}). The next name is one past the
 * year's highest; when two workers creating objects at different places pick the
 * same name, the unique constraint objects_name_key refuses the second insert,
 * which retries (in a savepoint) with the next name. Test and fake objects share
 * the counter; they are told apart by `is_test` / `is_fake` and only associate
 * with objects of the same kind.
 *
 * ```ts
 * const obj = await associateOrCreate(db, { ra: 150.1, dec: 2.2, mjd: 61041.3, radiusArcsec: 2 });
 * if (obj.created) console.log(`new object ${obj.name}`);
 * ```
 *
 * @module
 */

import type { Db } from "./db.ts";
import { coneSql } from "./cone.ts";
import { isUniqueViolation } from "./errors.ts";
import { withAdvisoryLock } from "./lock.ts";
import { HEALPIX_ORDER } from "./schema.ts";
import { isTransaction } from "./_values.ts";
import { coneRanges } from "../sky/cone.ts";
import { ang2pixNest } from "../sky/healpix.ts";

/** HEALPix order of the association locks (the objects' own order, pixels of ~52"). */
export const OBJECT_LOCK_ORDER = HEALPIX_ORDER;

/** Largest association radius accepted, arcsec: bounds the number of pixels locked. */
export const MAX_ASSOCIATION_RADIUS_ARCSEC = 60;

/** MJD of 1970-01-01T00:00:00 UTC. */
const MJD_UNIX_EPOCH = 40587;

/** Where and when a detection was made, and how far it may associate. */
export interface AssociateInput {
  /** Right ascension of the detection, degrees. */
  ra: number;
  /** Declination of the detection, degrees. */
  dec: number;
  /** MJD of the observation: its UTC year starts the name of a new object. */
  mjd: number;
  /** Association radius, arcsec (0 < r <= {@linkcode MAX_ASSOCIATION_RADIUS_ARCSEC}). */
  radiusArcsec: number;
  /** The detection comes from test data. @default false */
  isTest?: boolean;
  /** The detection is an injected fake. @default false */
  isFake?: boolean;
}

/** The object a detection belongs to. */
export interface AssociatedObject {
  id: string;
  name: string;
  /** The object's position (its first detection's), degrees. */
  ra: number;
  dec: number;
  /** True when this call created the object. */
  created: boolean;
  /** Distance from the detection to the object, arcsec (0 when created). */
  separationArcsec: number;
}

/**
 * The bijective base-26 counter of object names: 1 -> "a", 26 -> "z",
 * 27 -> "aa", 702 -> "zz", 703 -> "aaa".
 */
export function objectNameSuffix(counter: number): string {
  if (!Number.isInteger(counter) || counter < 1) {
    throw new RangeError(`object counter ${counter} must be an integer >= 1`);
  }
  let s = "";
  let n = counter;
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(97 + r) + s;
    n = (n - 1 - r) / 26;
  }
  return s;
}

/** The inverse of {@linkcode objectNameSuffix}; NaN for anything but lowercase letters. */
export function objectNameCounter(suffix: string): number {
  if (!/^[a-z]+$/.test(suffix)) return NaN;
  let n = 0;
  for (const ch of suffix) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n;
}

/** The UTC calendar year of an MJD. */
export function yearOfMjd(mjd: number): number {
  if (!Number.isFinite(mjd)) throw new RangeError(`invalid MJD ${mjd}`);
  return new Date((mjd - MJD_UNIX_EPOCH) * 86_400_000).getUTCFullYear();
}

/**
 * The order-{@linkcode OBJECT_LOCK_ORDER} pixels a cone touches (conservatively),
 * sorted increasing: the advisory locks {@linkcode associateOrCreate} takes.
 */
export function lockPixels(raDeg: number, decDeg: number, radiusDeg: number): number[] {
  const pixels = new Set<number>([ang2pixNest(OBJECT_LOCK_ORDER, raDeg, decDeg)]);
  for (const [lo, hi] of coneRanges(OBJECT_LOCK_ORDER, raDeg, decDeg, radiusDeg)) {
    for (let p = lo; p < hi; p++) pixels.add(p);
  }
  return [...pixels].sort((a, b) => a - b);
}

/** The year's highest name counter in use (0 when none). */
async function highestCounter(tx: Db, year: number): Promise<number> {
  const prefix = String(year);
  const rows = await tx.query<{ name: string }>(
    `SELECT name FROM objects
      WHERE name COLLATE "C" >= $1 AND name COLLATE "C" < $2
        AND substr(name, ${prefix.length + 1}) ~ '^[a-z]+$'
      ORDER BY length(name) DESC, name COLLATE "C" DESC LIMIT 1`,
    [prefix, String(year + 1)],
  );
  return rows.length === 0 ? 0 : objectNameCounter(rows[0].name.slice(prefix.length));
}

async function associateInTx(tx: Db, input: AssociateInput): Promise<AssociatedObject> {
  const { ra, dec } = input;
  const radiusDeg = input.radiusArcsec / 3600;
  const isTest = input.isTest ?? false;
  const isFake = input.isFake ?? false;
  for (const pixel of lockPixels(ra, dec, radiusDeg)) {
    await withAdvisoryLock(tx, `object:${OBJECT_LOCK_ORDER}:${pixel}`);
  }
  const { sql, params } = coneSql("objects", ra, dec, radiusDeg, {
    where: "t.is_test = $6 AND t.is_fake = $7",
    params: [isTest, isFake],
    limit: 1,
  });
  const [near] = await tx.query<
    { id: string; name: string; ra: number; dec: number; separation_deg: number }
  >(sql, params);
  if (near) {
    return {
      id: near.id,
      name: near.name,
      ra: Number(near.ra),
      dec: Number(near.dec),
      created: false,
      separationArcsec: Number(near.separation_deg) * 3600,
    };
  }
  const year = yearOfMjd(input.mjd);
  const healpix = ang2pixNest(HEALPIX_ORDER, ra, dec);
  for (let attempt = 0;; attempt++) {
    const name = `${year}${objectNameSuffix((await highestCounter(tx, year)) + 1)}`;
    try {
      const [row] = await tx.transaction((sp) =>
        sp.query<{ id: string }>(
          `INSERT INTO objects (name, ra, dec, healpix, is_test, is_fake)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
          [name, ra, dec, healpix, isTest, isFake],
        )
      );
      return { id: row.id, name, ra, dec, created: true, separationArcsec: 0 };
    } catch (err) {
      // another worker took this name (elsewhere on the sky): take the next one
      if (!isUniqueViolation(err, "objects_name_key") || attempt >= 100) throw err;
    }
  }
}

/**
 * The nearest object (of the same is_test / is_fake kind) within `radiusArcsec`
 * of the detection, or a new object created there and named after the year of
 * `mjd`. Safe against concurrent workers (see the module doc). With a
 * transaction `tx`, runs in it (the locks are held until it ends, and the new
 * object is visible to others once it commits); with a plain Db, in a
 * transaction of its own.
 */
export async function associateOrCreate(
  db: Db,
  input: AssociateInput,
): Promise<AssociatedObject> {
  const { ra, dec, radiusArcsec } = input;
  if (!Number.isFinite(ra) || !Number.isFinite(dec) || Math.abs(dec) > 90) {
    throw new RangeError(`invalid position ra=${ra} dec=${dec}`);
  }
  if (
    !Number.isFinite(radiusArcsec) || radiusArcsec <= 0 ||
    radiusArcsec > MAX_ASSOCIATION_RADIUS_ARCSEC
  ) {
    throw new RangeError(
      `association radius ${radiusArcsec}" must be in (0, ${MAX_ASSOCIATION_RADIUS_ARCSEC}]`,
    );
  }
  const normalised = { ...input, ra: ((ra % 360) + 360) % 360 };
  if (isTransaction(db)) return await associateInTx(db, normalised);
  return await db.transaction((tx) => associateInTx(tx, normalised));
}
