/**
 * `deno task bench chain`: wall time and peak memory of each pipeline step's
 * run() for one simulated 2048 x 4096 SimCam CCD (the default sky: ~5000 stars,
 * galaxies, cosmic rays), each step in its own process (tests/bench/_chain_step.ts)
 * so that its peak memory (VmHWM) is its own; `base_mb` is the resident memory
 * with the step's inputs loaded, before run(). Preprocessing: overscan, trim,
 * bias, flat, flags, sky/rms, weight, first-look FWHM. Extraction: background,
 * two detection passes, PSF fit, measurements, apertures, PSF photometry; with
 * source-extractor's wall time on the same image as `ref` (its own background,
 * detection at 3 sigma, windowed centroids, 4 apertures, AUTO). Astrocal: the
 * extraction's sources against the simulated Gaia excerpt (read before timing)
 * from the image's header WCS; photocal: the same sources and excerpt with
 * astrocal's WCS. Small mode: a 512 x 1024 CCD is not what this measures,
 * so small mode runs the full size too (bench is never run by the test suite).
 *
 * @module
 */
import { Header } from "../../functions/_shared/fits/header.ts";
import { readFits } from "../../functions/_shared/fits/reader.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import { exposureFits } from "../../functions/_shared/sim/output.ts";
import { simScience, simSetup } from "../../functions/preprocessing/_testing.ts";
import { excerptFits } from "../../functions/_shared/catalogs/cache.ts";
import { SimSkySource } from "../../functions/_shared/catalogs/sim.ts";
import type { BenchFigure, FigureOptions } from "../figure.ts";

const STEP = new URL("./_chain_step.ts", import.meta.url).pathname;

async function child(step: string, dir: string): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", STEP, step, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`${step}: ${new TextDecoder().decode(out.stderr)}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

export default async function* chain(opts: FigureOptions): AsyncIterable<BenchFigure> {
  const dir = await Deno.makeTempDir({ prefix: "bench_chain_" });
  try {
    opts.progress("chain: rendering masters and one 2048 x 4096 science CCD");
    const setup = simSetup({ nx: 2048, ny: 4096, frames: 3 });
    const exp = simScience(setup);
    const id = setup.cam.sectionIds()[0];
    await Deno.writeFile(`${dir}/raw.fits`, exposureFits(exp));
    for (const [name, frame] of [["bias", setup.bias.get(id)!], ["flat", setup.flat.get(id)!]]) {
      await Deno.writeFile(
        `${dir}/${name}.fits`,
        writeFits([{}, { data: (frame as { image: Float32Array }).image, axes: [2048, 4096] }]),
      );
    }
    // part B's inputs: the simulated Gaia excerpt around the CCD (the sky of simSetup)
    const c = exp.ccds[0].wcs.crval;
    const cosd = Math.cos((c[1] * Math.PI) / 180);
    const stars = await new SimSkySource(setup.sky).rect({
      minRa: c[0] - 0.5 / cosd,
      maxRa: c[0] + 0.5 / cosd,
      minDec: c[1] - 0.5,
      maxDec: c[1] + 0.5,
    });
    await Deno.writeFile(`${dir}/excerpt.fits`, excerptFits(stars));
    for (const step of ["preprocessing", "extraction", "astrocal", "photocal"]) {
      opts.progress(`chain: ${step} (warm-up, then best of 2)`);
      await child(step, dir);
      const runs = [await child(step, dir), await child(step, dir)];
      const best = runs.reduce((a, b) => (b.wall_ms < a.wall_ms ? b : a));
      const fig: BenchFigure = { bench: `chain/${step}`, ...best } as BenchFigure;
      if (step === "extraction") {
        const img = await readFits(await Deno.readFile(`${dir}/image.fits`));
        const data = (await img.image("IMAGE")).data as Float32Array;
        await Deno.writeFile(
          `${dir}/sci.fits`,
          writeFits([{ header: new Header().set("GAIN", 1), data, axes: [2048, 4096] }]),
        );
        await Deno.writeTextFile(
          `${dir}/sex.param`,
          "XWIN_IMAGE\nYWIN_IMAGE\nFLUX_APER(4)\nFLUX_AUTO\nFLUXERR_AUTO\nFLAGS\n",
        );
        let refMs = Infinity;
        for (let r = 0; r < 2; r++) {
          const t0 = performance.now();
          const out = await new Deno.Command("/usr/bin/source-extractor", {
            args: [
              `${dir}/sci.fits`,
              "-c",
              "/usr/share/source-extractor/default.sex",
              "-PARAMETERS_NAME",
              `${dir}/sex.param`,
              "-FILTER_NAME",
              "/usr/share/source-extractor/gauss_2.5_5x5.conv",
              "-CATALOG_NAME",
              `${dir}/cat.fits`,
              "-DETECT_THRESH",
              "3",
              "-BACK_SIZE",
              "128",
              "-PHOT_APERTURES",
              "8.6,17.2,25.8,43",
              "-VERBOSE_TYPE",
              "QUIET",
            ],
            stdout: "null",
            stderr: "piped",
          }).output();
          if (!out.success) break;
          refMs = Math.min(refMs, performance.now() - t0);
        }
        if (Number.isFinite(refMs)) {
          fig.ref = "source-extractor";
          fig.ref_ms = Math.round(refMs);
        }
      }
      yield fig;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
