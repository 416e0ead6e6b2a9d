/**
 * Our extraction against SExtractor (Debian's `source-extractor`) on the same
 * preprocessed image (group "extraction"; part B adds the astrometry-vs-SCAMP
 * figures): a simulated SimCam CCD (512 x 1024 small, 2048 x 4096 full) goes
 * through preprocessing's run(); its IMAGE and WEIGHT planes are written as FITS
 * and given to SExtractor with the same background mesh (128 px, 3x3 filter), a
 * 3-sigma threshold, the weight map, gain 1 (electrons) and our aperture
 * diameters; extraction's run() sees the same Image.
 *
 * Figures (tolerances stated here):
 * - extraction/sex_missed: fraction of SExtractor's bright clean sources (S/N of
 *   FLUX_AUTO > 20, FLAGS 0, 10 px from the edges) that we do not have within
 *   1 px; tolerance 0.03 (blends split differently by the two deblenders).
 * - extraction/ours_missed: fraction of our bright clean sources (S/N of the
 *   3-FWHM aperture > 20, no serious flag) that SExtractor does not have within
 *   1 px; tolerance 0.03.
 * - extraction/aper_flux_ratio_2fwhm and _3fwhm: median(ours / SExtractor) - 1 of
 *   FLUX_APER in the same apertures for the matched bright sources (exact pixel
 *   overlap both, the same kind of mesh background); tolerance 0.01.
 * - extraction/centroid_offset: median distance (px) between our windowed
 *   centroid and SExtractor's XWIN/YWIN_IMAGE (minus 1: FITS pixels are 1-based)
 *   for the matched bright sources; tolerance 0.05.
 *
 * @module
 */
import { Header } from "../../functions/_shared/fits/header.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import { ExtractionParams, extractionStep } from "../../functions/extraction/step.ts";
import {
  preprocessingInputsOf,
  simScience,
  simSetup,
} from "../../functions/preprocessing/_testing.ts";
import { PreprocessingParams, preprocessingStep } from "../../functions/preprocessing/step.ts";
import { type CrossvalFigure, type FigureOptions, within } from "../figure.ts";

const SEX = "/usr/bin/source-extractor";
const SEX_SHARE = "/usr/share/source-extractor";
/** Source FLAGS bits that spoil a measurement (see functions/extraction/step.ts). */
const SERIOUS = 2 | 4 | 8 | (1 << 5) | (2 << 5) | (32 << 5);

interface SexRow {
  x: number;
  y: number;
  flux: number[];
  auto: number;
  autoErr: number;
  flags: number;
}

/** Parses an ASCII_HEAD catalog: "# n NAME" header lines, then whitespace-separated rows. */
function parseAsciiHead(text: string, naper: number): SexRow[] {
  const cols = new Map<string, number>();
  const rows: SexRow[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) {
      const m = /^#\s+(\d+)\s+(\S+)/.exec(line);
      if (m) cols.set(m[2], Number(m[1]) - 1);
      continue;
    }
    const v = line.trim().split(/\s+/).map(Number);
    if (v.length < 2) continue;
    const at = (name: string) => {
      const c = cols.get(name);
      if (c === undefined) throw new Error(`SExtractor catalog has no ${name}`);
      return c;
    };
    const a0 = at("FLUX_APER");
    rows.push({
      x: v[at("XWIN_IMAGE")] - 1,
      y: v[at("YWIN_IMAGE")] - 1,
      flux: Array.from({ length: naper }, (_, k) => v[a0 + k]),
      auto: v[at("FLUX_AUTO")],
      autoErr: v[at("FLUXERR_AUTO")],
      flags: v[at("FLAGS")],
    });
  }
  return rows;
}

/** Index of the nearest point within `r` px, via a grid. */
function nearestFinder(xs: ArrayLike<number>, ys: ArrayLike<number>) {
  const cell = 4, grid = new Map<number, number[]>();
  for (let i = 0; i < xs.length; i++) {
    const key = Math.floor(xs[i] / cell) * 100003 + Math.floor(ys[i] / cell);
    (grid.get(key) ?? grid.set(key, []).get(key)!).push(i);
  }
  return (x: number, y: number, r: number): number => {
    let best = -1, bd = r;
    const cx = Math.floor(x / cell), cy = Math.floor(y / cell);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const i of grid.get((cx + dx) * 100003 + cy + dy) ?? []) {
          const d = Math.hypot(xs[i] - x, ys[i] - y);
          if (d < bd) {
            bd = d;
            best = i;
          }
        }
      }
    }
    return best;
  };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
}

export default async function* extraction(opts: FigureOptions): AsyncIterable<CrossvalFigure> {
  const nx = opts.small ? 512 : 2048, ny = opts.small ? 1024 : 4096;
  opts.progress(`extraction: preprocessing a simulated ${nx} x ${ny} CCD`);
  const setup = simSetup({ nx, ny, frames: 3 });
  const ccd = simScience(setup).ccds[0];
  const pre = await preprocessingStep.run(
    preprocessingInputsOf(setup, ccd),
    PreprocessingParams.parse({}),
    undefined,
  );
  const img = pre.outputs.image;
  const params = ExtractionParams.parse({});
  opts.progress("extraction: our extraction");
  const { outputs } = await extractionStep.run({ image: img }, params, undefined);
  const ours = outputs.sources;
  const radii = ours.apertureRadii;
  const naper = radii.length;

  opts.progress("extraction: source-extractor on the same image");
  const dir = await Deno.makeTempDir({ prefix: "crossval_extraction_" });
  try {
    const h = new Header().set("GAIN", 1).set("SATURATE", img.header.getNumber("SATURATE") ?? 1e9);
    await Deno.writeFile(
      `${dir}/image.fits`,
      writeFits([{ header: h, data: img.image, axes: [nx, ny] }]),
    );
    await Deno.writeFile(
      `${dir}/weight.fits`,
      writeFits([{ data: img.weight, axes: [nx, ny] }]),
    );
    await Deno.writeTextFile(
      `${dir}/sex.param`,
      ["XWIN_IMAGE", "YWIN_IMAGE", `FLUX_APER(${naper})`, "FLUX_AUTO", "FLUXERR_AUTO", "FLAGS"]
        .join("\n") + "\n",
    );
    const args = [
      `${dir}/image.fits`,
      "-c",
      `${SEX_SHARE}/default.sex`,
      "-PARAMETERS_NAME",
      `${dir}/sex.param`,
      "-FILTER_NAME",
      `${SEX_SHARE}/gauss_2.5_5x5.conv`,
      "-STARNNW_NAME",
      `${SEX_SHARE}/default.nnw`,
      "-CATALOG_NAME",
      `${dir}/cat.txt`,
      "-CATALOG_TYPE",
      "ASCII_HEAD",
      "-DETECT_THRESH",
      String(params.threshold),
      "-ANALYSIS_THRESH",
      String(params.threshold),
      "-DETECT_MINAREA",
      String(params.min_area),
      "-DEBLEND_NTHRESH",
      String(params.deblend_nthresh),
      "-DEBLEND_MINCONT",
      String(params.deblend_cont),
      "-BACK_SIZE",
      String(params.back_box),
      "-BACK_FILTERSIZE",
      String(params.back_filter),
      "-WEIGHT_TYPE",
      "MAP_WEIGHT",
      "-WEIGHT_IMAGE",
      `${dir}/weight.fits`,
      "-GAIN",
      "1",
      "-SATUR_LEVEL",
      String(img.header.getNumber("SATURATE") ?? 1e9),
      "-PHOT_APERTURES",
      radii.map((r) => (2 * r).toFixed(4)).join(","),
      "-VERBOSE_TYPE",
      "QUIET",
    ];
    const run = await new Deno.Command(SEX, { args, stdout: "piped", stderr: "piped" }).output();
    if (!run.success) {
      throw new Error(`source-extractor failed: ${new TextDecoder().decode(run.stderr)}`);
    }
    const theirs = parseAsciiHead(await Deno.readTextFile(`${dir}/cat.txt`), naper);
    const inside = (x: number, y: number) => x > 10 && y > 10 && x < nx - 11 && y < ny - 11;

    const findOurs = nearestFinder(ours.X, ours.Y);
    const findTheirs = nearestFinder(theirs.map((t) => t.x), theirs.map((t) => t.y));
    const brightTheirs = theirs.filter((t) =>
      t.flags === 0 && t.auto / t.autoErr > 20 && inside(t.x, t.y)
    );
    const k3 = 2; // the 3-FWHM aperture
    const brightOurs: number[] = [];
    for (let j = 0; j < ours.count; j++) {
      const f = ours.FLUX_APER[j * naper + k3], e = ours.FLUXERR_APER[j * naper + k3];
      if ((ours.FLAGS[j] & SERIOUS) === 0 && f / e > 20 && inside(ours.X[j], ours.Y[j])) {
        brightOurs.push(j);
      }
    }
    const missedBySex = brightOurs.filter((j) => findTheirs(ours.X[j], ours.Y[j], 1) < 0).length;
    const ratios2: number[] = [], ratios3: number[] = [], offsets: number[] = [];
    let missedByUs = 0;
    for (const t of brightTheirs) {
      const j = findOurs(t.x, t.y, 1);
      if (j < 0) {
        missedByUs++;
        continue;
      }
      offsets.push(Math.hypot(ours.X[j] - t.x, ours.Y[j] - t.y));
      if ((ours.FLAGS[j] & SERIOUS) !== 0) continue;
      ratios2.push(ours.FLUX_APER[j * naper + 1] / t.flux[1]);
      ratios3.push(ours.FLUX_APER[j * naper + 2] / t.flux[2]);
    }
    yield {
      ...within("extraction/sex_missed", missedByUs / brightTheirs.length, 0.03),
      sex_bright: brightTheirs.length,
      sex_sources: theirs.length,
      our_sources: ours.count,
    };
    yield {
      ...within("extraction/ours_missed", missedBySex / brightOurs.length, 0.03),
      our_bright: brightOurs.length,
    };
    yield {
      ...within("extraction/aper_flux_ratio_2fwhm", median(ratios2) - 1, 0.01),
      n: ratios2.length,
    };
    yield {
      ...within("extraction/aper_flux_ratio_3fwhm", median(ratios3) - 1, 0.01),
      n: ratios3.length,
    };
    yield { ...within("extraction/centroid_offset", median(offsets), 0.05), n: offsets.length };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
