/**
 * Cross-validation of simulated DECam-format raw files (group "sim"): the same
 * files read by astropy (/usr/bin/python3, tests/crossval/py/sim_read.py) and by
 * skydiff's FITS reader.
 *
 * - sim/pixels_plain, sim/pixels_rice: CCDs whose pixels differ (MD5 of the uint16
 *   data) between astropy and us, for the plain file and our Rice tile-compressed
 *   one; tolerance 0.
 * - sim/pixels_fpack: CCDs whose pixels differ between the plain file and the file
 *   that the real `fpack` (cfitsio) made from it, read by us; tolerance 0.
 * - sim/header_values: DECam keywords (sections, gains, read noise, saturation,
 *   exposure values, WCS) whose values differ between astropy and us; tolerance 0.
 * - sim/wcs_truth_px: largest distance (px) between astropy.wcs's pixel of every
 *   truth source's (RA, DEC) and the pixel it was drawn at; tolerance 1e-4 px.
 *
 * @module
 */
import { type CrossvalFigure, type FigureOptions, within } from "../figure.ts";
import { readFits } from "../../functions/_shared/fits/reader.ts";
import { SimCam } from "../../functions/_shared/instruments/simcam.ts";
import { renderExposure } from "../../functions/_shared/sim/camera.ts";
import { exposureFits, truthFits } from "../../functions/_shared/sim/output.ts";
import { SimSky } from "../../functions/_shared/sim/sky.ts";

const KEYS = [
  "EXTNAME",
  "CCDNUM",
  "DETPOS",
  "DATASEC",
  "DATASECA",
  "DATASECB",
  "BIASSECA",
  "BIASSECB",
  "CCDSECA",
  "CCDSECB",
  "GAINA",
  "GAINB",
  "RDNOISEA",
  "RDNOISEB",
  "SATURATA",
  "SATURATB",
  "MJD-OBS",
  "EXPTIME",
  "FILTER",
  "RA",
  "DEC",
  "AIRMASS",
  "OBSTYPE",
  "EXPNUM",
  "CTYPE1",
  "CTYPE2",
  "CRVAL1",
  "CRVAL2",
  "CRPIX1",
  "CRPIX2",
  "CD1_2",
  "CD2_1",
  "PV1_7",
  "PV2_9",
]; // deno-fmt-ignore

async function md5(bytes: Uint8Array): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("md5").update(bytes).digest("hex");
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (typeof a === "bigint" || typeof b === "bigint") return Number(a) === Number(b);
  return typeof a === "string" && typeof b === "string" ? a.trim() === b.trim() : a === b;
}

async function ourPixels(bytes: Uint8Array): Promise<Map<string, string>> {
  const f = await readFits(bytes);
  const out = new Map<string, string>();
  for (const h of await f.hdus()) {
    const name = h.name?.trim();
    if (!name || h.kind === "bintable" && !h.header.get("ZIMAGE")) continue;
    const img = await h.readImage();
    const data = img.data as Uint16Array;
    out.set(name, await md5(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  }
  return out;
}

export default async function* sim(opts: FigureOptions): AsyncIterable<CrossvalFigure> {
  const cam = opts.small
    ? new SimCam({ nCcd: 2, ccdNx: 256, ccdNy: 512, seed: 3 })
    : new SimCam({ nCcd: 4, seed: 3 });
  const sky = new SimSky({ seed: 9 });
  opts.progress("sim: rendering a DECam-format exposure");
  const exp = renderExposure(cam, sky, { ra: 35.5, dec: -4.2, mjd: 60100.1, band: "i", expnum: 9 });
  const dir = await Deno.makeTempDir({ prefix: "skydiff_sim_crossval_" });
  try {
    const plain = exposureFits(exp, false), rice = exposureFits(exp, true);
    const files = {
      plain: `${dir}/raw.fits`,
      rice: `${dir}/raw_rice.fits`,
      truth: `${dir}/truth.fits`,
      fpack: `${dir}/raw.fits.fz`,
    };
    await Deno.writeFile(files.plain, plain);
    await Deno.writeFile(files.rice, rice);
    await Deno.writeFile(files.truth, truthFits(exp));
    const py = async (raw: string) => {
      const script = new URL("./py/sim_read.py", import.meta.url).pathname;
      const r = await new Deno.Command("/usr/bin/python3", {
        args: [script, raw, files.truth, ...KEYS],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!r.success) throw new Error(`sim_read.py failed: ${new TextDecoder().decode(r.stderr)}`);
      return JSON.parse(new TextDecoder().decode(r.stdout));
    };
    opts.progress("sim: reading with astropy");
    const astroPlain = await py(files.plain), astroRice = await py(files.rice);
    for (
      const [name, astro, bytes] of [["plain", astroPlain, plain], [
        "rice",
        astroRice,
        rice,
      ]] as const
    ) {
      const ours = await ourPixels(bytes);
      let bad = 0;
      for (const h of astro.hdus) if (ours.get(h.extname) !== h.md5) bad++;
      bad += Math.abs(exp.ccds.length - astro.hdus.length);
      yield { ...within(`sim/pixels_${name}`, bad, 0), ccds: astro.hdus.length };
    }
    // the real fpack (Debian's libcfitsio-bin), read by us
    const fp = await new Deno.Command("fpack", { args: ["-O", files.fpack, files.plain] }).output()
      .catch((err) => {
        if (err instanceof Deno.errors.NotFound) return null;
        throw err;
      });
    if (fp === null) {
      opts.progress("sim: fpack is not installed (libcfitsio-bin): no sim/pixels_fpack figure");
    } else {
      if (!fp.success) throw new Error(`fpack failed: ${new TextDecoder().decode(fp.stderr)}`);
      const fromFpack = await ourPixels(await Deno.readFile(files.fpack));
      const fromPlain = await ourPixels(plain);
      let badFpack = 0;
      for (const [k, v] of fromPlain) if (fromFpack.get(k) !== v) badFpack++;
      badFpack += Math.abs(fromPlain.size - fromFpack.size);
      yield { ...within("sim/pixels_fpack", badFpack, 0), ccds: fromFpack.size };
    }
    // header values
    const f = await readFits(plain);
    let badKeys = 0, compared = 0;
    const primary = (await f.hdu(0)).header;
    for (const [k, v] of Object.entries(astroPlain.primary)) {
      compared++;
      if (!sameValue(primary.get(k), v)) badKeys++;
    }
    for (const h of astroPlain.hdus) {
      const ours = (await f.hdu(h.extname)).header;
      for (const [k, v] of Object.entries(h.header)) {
        compared++;
        if (!sameValue(ours.get(k), v)) badKeys++;
      }
    }
    yield { ...within("sim/header_values", badKeys, 0), compared };
    // astropy's WCS puts every truth source where we drew it
    const off = cam.rawGeometry()[1].data;
    let worst = 0, n = 0;
    for (const c of exp.ccds) {
      const w = astroPlain.wcs[c.id];
      c.truth.forEach((t, i) => {
        worst = Math.max(worst, Math.hypot(w.x[i] - (t.x + off.x0), w.y[i] - (t.y + off.y0)));
        n++;
      });
    }
    yield { ...within("sim/wcs_truth_px", worst, 1e-4), sources: n };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
