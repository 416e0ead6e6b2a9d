/**
 * `deno task crossval sky`: HEALPix indexing and sky angles against healpy
 * (python3-healpy) and astropy.coordinates, on 20 000 (small) or 1 000 000 (full)
 * random positions uniform on the sphere, plus points on the polar-cap boundary
 * (|dec| = asin(2/3)), near the poles and at ra = 0 / 360.
 *
 * Figures:
 * - sky/ang2pix_order<o>_mismatch for orders 0, 1, 5, 10, 12, 18, 24 (numbers) and 29
 *   (bigint): positions whose NESTED index differs from healpy's; tolerance 0.
 * - sky/pix2ang_max_mas: largest distance between our pixel centres and healpy's over
 *   random pixels of every order; tolerance 0.001 mas.
 * - sky/cone_missing_pixels: pixels that healpy.query_disc(inclusive=True) returns but
 *   our coneRanges / coneRangesBig do not cover, over cones at orders 6 to 29 (small
 *   and large radii, at a pole, across ra = 0, on the cap boundary); tolerance 0. The
 *   extra field `area_ratio` is our covered pixel count over healpy's.
 * - sky/separation_max_diff_mas, sky/position_angle_max_diff_deg: against astropy's
 *   SkyCoord.separation and position_angle; tolerances 1e-5 mas (float64 rounding on
 *   separations of tens of degrees is ~1e-7 mas) and 1e-9 deg (the angle over pairs
 *   more than 0.01 deg apart); sky/position_angle_max_offset_mas: the angle difference
 *   times the separation, over all pairs; tolerance 1e-5 mas.
 *
 * @module
 */
import type { FigureGroup } from "../figure.ts";
import { within } from "../figure.ts";
import {
  ang2pixNest,
  ang2pixNestBig,
  angularSeparationDeg,
  coneRanges,
  coneRangesBig,
  pix2angNest,
  positionAngleDeg,
} from "../../functions/_shared/sky/mod.ts";

const PY = new URL("./py/healpy_sky.py", import.meta.url).pathname;
const ORDERS = [0, 1, 5, 10, 12, 18, 24, 29];

/** Uniform in [0, 1) with 53 random bits (two LCG draws: a 32-bit lattice would put
 * many points exactly on HEALPix pixel edges at high orders). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return () => (next() * 2097152 + (next() >>> 11)) / 9007199254740992;
}

async function writeBin(path: string, a: Float64Array | BigInt64Array): Promise<void> {
  await Deno.writeFile(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

async function readF64(path: string): Promise<Float64Array> {
  const b = await Deno.readFile(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function readI64(path: string): Promise<BigInt64Array> {
  const b = await Deno.readFile(path);
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const skyGroup: FigureGroup = async function* ({ small, progress }) {
  const n = small ? 20_000 : 1_000_000;
  const dir = await Deno.makeTempDir({ prefix: "skydiff_crossval_sky_" });
  try {
    const r = rng(2024);
    const ra = new Float64Array(n), dec = new Float64Array(n);
    const cap = (Math.asin(2 / 3) * 180) / Math.PI;
    for (let i = 0; i < n; i++) {
      ra[i] = r() * 360;
      dec[i] = (Math.asin(2 * r() - 1) * 180) / Math.PI;
    }
    // special places: cap boundary, poles, ra wrap
    for (let i = 0; i < 200; i++) {
      dec[i] = (i % 2 ? cap : -cap) + (r() - 0.5) * 1e-6;
      dec[200 + i] = (i % 2 ? 90 : -90) - (i % 2 ? 1 : -1) * r() * 1e-3;
      ra[400 + i] = i % 2 ? 360 - r() * 1e-9 : r() * 1e-9;
    }
    const ra2 = Float64Array.from(ra, (v, i) => (v + (i % 3 === 0 ? r() * 1e-5 : r() * 180)) % 360);
    const dec2 = Float64Array.from(
      dec,
      (v, i) => Math.max(-90, Math.min(90, v + (i % 3 === 0 ? r() * 1e-5 : r() * 20 - 10))),
    );
    await Promise.all([
      writeBin(`${dir}/ra.f64`, ra),
      writeBin(`${dir}/dec.f64`, dec),
      writeBin(`${dir}/ra2.f64`, ra2),
      writeBin(`${dir}/dec2.f64`, dec2),
    ]);
    const npixTest = small ? 2000 : 100_000;
    const pixels = new Map<number, BigInt64Array>();
    for (const o of ORDERS) {
      const npix = 12n << BigInt(2 * o);
      const p = new BigInt64Array(npixTest);
      for (let i = 0; i < npixTest; i++) {
        const hi = BigInt(Math.floor(r() * 2 ** 30)), lo = BigInt(Math.floor(r() * 2 ** 30));
        p[i] = ((hi << 30n) | lo) % npix;
      }
      pixels.set(o, p);
      await writeBin(`${dir}/pix_${o}.i64`, p);
    }
    const cones = [
      { order: 6, ra: 10, dec: 20, radius: 5 },
      { order: 8, ra: 359.95, dec: -0.3, radius: 1.2 },
      { order: 10, ra: 123.4, dec: 89.8, radius: 0.5 },
      { order: 10, ra: 300.1, dec: -cap, radius: 0.3 },
      { order: 12, ra: 45, dec: cap + 0.01, radius: 0.25 },
      { order: 14, ra: 200, dec: -60, radius: 0.05 },
      { order: 16, ra: 150.1, dec: 2.2, radius: 0.01 },
      { order: 20, ra: 0.0001, dec: 30, radius: 0.001 },
      { order: 29, ra: 270.5, dec: -89.99999, radius: 2e-6 },
    ];
    await Deno.writeTextFile(`${dir}/orders.json`, JSON.stringify(ORDERS));
    await Deno.writeTextFile(`${dir}/cones.json`, JSON.stringify(cones));
    progress(`healpy on ${n} positions`);
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [PY, dir],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const versions = JSON.parse(new TextDecoder().decode(out.stdout));

    let maxCentre = 0;
    for (const o of ORDERS) {
      const theirs = await readI64(`${dir}/ang2pix_${o}.i64`);
      let bad = 0;
      for (let i = 0; i < n; i++) {
        const ours = o <= 24
          ? BigInt(ang2pixNest(o, ra[i], dec[i]))
          : ang2pixNestBig(o, ra[i], dec[i]);
        if (ours !== theirs[i]) bad++;
      }
      yield {
        ...within(`sky/ang2pix_order${o}_mismatch`, bad, 0),
        positions: n,
        healpy: versions.healpy,
      };
      const cra = await readF64(`${dir}/pix2ang_${o}_ra.f64`),
        cdec = await readF64(`${dir}/pix2ang_${o}_dec.f64`);
      const p = pixels.get(o)!;
      for (let i = 0; i < p.length; i++) {
        const c = o <= 24 ? pix2angNest(o, Number(p[i])) : pix2angNest(o, p[i]);
        maxCentre = Math.max(maxCentre, angularSeparationDeg(c.ra, c.dec, cra[i], cdec[i]) * 3.6e6);
      }
    }
    yield within("sky/pix2ang_max_mas", maxCentre, 0.001);

    let missing = 0, ours = 0, theirsCount = 0;
    for (const [k, c] of cones.entries()) {
      const theirs = await readI64(`${dir}/cone_${k}.i64`);
      theirsCount += theirs.length;
      const ranges: Array<[bigint, bigint]> = c.order <= 24
        ? coneRanges(c.order, c.ra, c.dec, c.radius).map(([lo, hi]) => [BigInt(lo), BigInt(hi)])
        : coneRangesBig(c.order, c.ra, c.dec, c.radius);
      for (const [lo, hi] of ranges) ours += Number(hi - lo);
      for (const p of theirs) {
        // binary search in the sorted, disjoint ranges
        let a = 0, b = ranges.length - 1, hit = false;
        while (a <= b) {
          const m = (a + b) >> 1;
          if (p < ranges[m][0]) b = m - 1;
          else if (p >= ranges[m][1]) a = m + 1;
          else {
            hit = true;
            break;
          }
        }
        if (!hit) missing++;
      }
    }
    yield {
      ...within("sky/cone_missing_pixels", missing, 0),
      healpy_pixels: theirsCount,
      area_ratio: ours / theirsCount,
    };

    const sep = await readF64(`${dir}/sep.f64`), pa = await readF64(`${dir}/pa.f64`);
    let maxSep = 0, maxPa = 0, maxPaMas = 0;
    for (let i = 0; i < n; i++) {
      maxSep = Math.max(
        maxSep,
        Math.abs(angularSeparationDeg(ra[i], dec[i], ra2[i], dec2[i]) - sep[i]) * 3.6e6,
      );
      if (sep[i] > 0 && Math.abs(Math.abs(dec[i]) - 90) > 1e-6) {
        let d = Math.abs(positionAngleDeg(ra[i], dec[i], ra2[i], dec2[i]) - pa[i]);
        if (d > 180) d = 360 - d;
        // the angle is ill-conditioned at tiny separations: also measure it as the
        // tangential offset it implies at the second position
        maxPaMas = Math.max(maxPaMas, (d * Math.PI) / 180 * sep[i] * 3.6e6);
        if (sep[i] > 0.01) maxPa = Math.max(maxPa, d);
      }
    }
    yield within("sky/separation_max_diff_mas", maxSep, 1e-5);
    yield within("sky/position_angle_max_offset_mas", maxPaMas, 1e-5);
    yield within("sky/position_angle_max_diff_deg", maxPa, 1e-9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

export default skyGroup;
