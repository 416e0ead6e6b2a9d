/**
 * Reference-star positions at an image's epoch: Gaia positions (epoch J2016.0)
 * moved by their proper motions (linear in time; parallax ignored).
 *
 * @module
 */
import type { RefStar } from "../catalogs/catalog.ts";

const MJD_J2000 = 51544.5;
const DAYS_PER_JULIAN_YEAR = 365.25;

/** Julian year of an MJD. */
export function julianYear(mjd: number): number {
  return 2000 + (mjd - MJD_J2000) / DAYS_PER_JULIAN_YEAR;
}

/** A star's position (deg) at Julian year `epoch`; stars without proper motion stay put. */
export function positionAtEpoch(star: RefStar, epoch: number): { ra: number; dec: number } {
  const dt = epoch - star.epoch;
  const pmra = Number.isFinite(star.pmra) ? star.pmra : 0;
  const pmdec = Number.isFinite(star.pmdec) ? star.pmdec : 0;
  const dec = star.dec + (pmdec * dt) / 3.6e6;
  const cosd = Math.max(Math.cos((star.dec * Math.PI) / 180), 1e-9);
  let ra = star.ra + (pmra * dt) / 3.6e6 / cosd;
  ra = ((ra % 360) + 360) % 360;
  return { ra, dec };
}
