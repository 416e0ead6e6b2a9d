/**
 * Turns tables with Gaia-archive column names (or our own) into {@linkcode RefStar}s,
 * and RefStars back into columns: shared by the HTTP, file and cache code.
 *
 * Recognised names (case-insensitive): source_id|id, ra, dec, ra_error|raerr,
 * dec_error|decerr, pmra, pmdec, pmra_error, pmdec_error, parallax, parallax_error,
 * phot_g_mean_mag|g, phot_bp_mean_mag|bp, phot_rp_mean_mag|rp, and magnitude errors
 * as phot_g_mean_mag_error|g_err (mag) or phot_g_mean_flux_over_error (then
 * error = 2.5 / ln 10 / (flux over error)), likewise for bp and rp; ref_epoch|epoch.
 *
 * @module
 */
import { GAIA_EPOCH, type RefStar } from "./catalog.ts";

/** Column names we write (and read back first). */
export const REFSTAR_COLUMNS = [
  "id",
  "ra",
  "dec",
  "ra_error",
  "dec_error",
  "pmra",
  "pmdec",
  "pmra_error",
  "pmdec_error",
  "parallax",
  "parallax_error",
  "phot_g_mean_mag",
  "phot_g_mean_mag_error",
  "phot_bp_mean_mag",
  "phot_bp_mean_mag_error",
  "phot_rp_mean_mag",
  "phot_rp_mean_mag_error",
  "ref_epoch",
] as const;

const MAG_ERR = 2.5 / Math.LN10;

/** A column-oriented table: name -> values (one per row). */
export type Columns = Record<string, ArrayLike<unknown>>;

function num(v: unknown): number {
  if (v === null || v === undefined || v === "") return NaN;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const n = Number(String(v).trim());
  return Number.isFinite(n) ? n : NaN;
}

/** RefStars from a column table; rows without a finite ra/dec are dropped. */
export function refStarsFromColumns(cols: Columns): RefStar[] {
  const lower = new Map<string, ArrayLike<unknown>>();
  for (const [k, v] of Object.entries(cols)) lower.set(k.toLowerCase(), v);
  const col = (...names: string[]) => {
    for (const n of names) {
      const c = lower.get(n);
      if (c) return c;
    }
    return undefined;
  };
  const ra = col("ra"), dec = col("dec");
  if (!ra || !dec) throw new Error("catalog table has no ra/dec columns");
  const n = ra.length;
  const get = (c: ArrayLike<unknown> | undefined, i: number) => (c ? num(c[i]) : NaN);
  const id = col("source_id", "id");
  const magErr = (band: string, i: number) => {
    const e = col(`phot_${band}_mean_mag_error`, `${band}_err`, `${band}err`);
    if (e) return num(e[i]);
    const foe = col(`phot_${band}_mean_flux_over_error`);
    return foe ? MAG_ERR / num(foe[i]) : NaN;
  };
  const cRaErr = col("ra_error", "raerr"), cDecErr = col("dec_error", "decerr");
  const cPmra = col("pmra"), cPmdec = col("pmdec");
  const cPmraErr = col("pmra_error"), cPmdecErr = col("pmdec_error");
  const cPlx = col("parallax"), cPlxErr = col("parallax_error");
  const cG = col("phot_g_mean_mag", "g"), cBp = col("phot_bp_mean_mag", "bp");
  const cRp = col("phot_rp_mean_mag", "rp"), cEpoch = col("ref_epoch", "epoch");
  const out: RefStar[] = [];
  for (let i = 0; i < n; i++) {
    const r = num(ra[i]), d = num(dec[i]);
    if (!Number.isFinite(r) || !Number.isFinite(d)) continue;
    const epoch = get(cEpoch, i);
    out.push({
      id: id ? String(id[i]) : String(i),
      ra: r,
      dec: d,
      raErr: get(cRaErr, i),
      decErr: get(cDecErr, i),
      pmra: get(cPmra, i),
      pmdec: get(cPmdec, i),
      pmraErr: get(cPmraErr, i),
      pmdecErr: get(cPmdecErr, i),
      parallax: get(cPlx, i),
      parallaxErr: get(cPlxErr, i),
      g: get(cG, i),
      gErr: magErr("g", i),
      bp: get(cBp, i),
      bpErr: magErr("bp", i),
      rp: get(cRp, i),
      rpErr: magErr("rp", i),
      epoch: Number.isFinite(epoch) ? epoch : GAIA_EPOCH,
    });
  }
  return out;
}

/** Columns (our names, Float64 except id) of RefStars. */
export function refStarsToColumns(stars: readonly RefStar[]): {
  id: string[];
  numeric: Record<Exclude<typeof REFSTAR_COLUMNS[number], "id">, Float64Array>;
} {
  const f = (g: (s: RefStar) => number) => Float64Array.from(stars, g);
  return {
    id: stars.map((s) => s.id),
    numeric: {
      ra: f((s) => s.ra),
      dec: f((s) => s.dec),
      ra_error: f((s) => s.raErr),
      dec_error: f((s) => s.decErr),
      pmra: f((s) => s.pmra),
      pmdec: f((s) => s.pmdec),
      pmra_error: f((s) => s.pmraErr),
      pmdec_error: f((s) => s.pmdecErr),
      parallax: f((s) => s.parallax),
      parallax_error: f((s) => s.parallaxErr),
      phot_g_mean_mag: f((s) => s.g),
      phot_g_mean_mag_error: f((s) => s.gErr),
      phot_bp_mean_mag: f((s) => s.bp),
      phot_bp_mean_mag_error: f((s) => s.bpErr),
      phot_rp_mean_mag: f((s) => s.rp),
      phot_rp_mean_mag_error: f((s) => s.rpErr),
      ref_epoch: f((s) => s.epoch),
    },
  };
}

/** Parses CSV (header row, comma separated, optional double quotes) into columns. */
export function parseCsv(text: string): Columns {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#"));
  if (lines.length === 0) return {};
  const split = (line: string) => {
    const out: string[] = [];
    let cur = "", q = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (q) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') q = false;
        else cur += ch;
      } else if (ch === '"') q = true;
      else if (ch === ",") {
        out.push(cur);
        cur = "";
      } else cur += ch;
    }
    out.push(cur);
    return out.map((s) => s.trim());
  };
  const names = split(lines[0]);
  const cols: Record<string, string[]> = {};
  for (const n of names) cols[n] = [];
  for (const line of lines.slice(1)) {
    const vals = split(line);
    names.forEach((n, i) => cols[n].push(vals[i] ?? ""));
  }
  return cols;
}
