/**
 * `skydiff demo` (`deno task demo`): the pipeline end to end on the embedded
 * defaults (PGlite, a local directory, the in-process queue), in data/demo/.
 *
 * What runs today: a small simulated two-CCD exposure with known stars is written
 * as raw multi-extension FITS, ingested (exposures row + first message), worked
 * through the queue by the headersummary step (provenance, product, report), and
 * each CCD goes through the imaging core (background, detection) with the
 * detections matched against the truth. The later pipeline steps join this
 * demo as they land.
 *
 * @module
 */
import type { Config } from "../../functions/config.ts";
import { Header } from "../../functions/_shared/fits/header.ts";
import { openFits } from "../../functions/_shared/fits/reader.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import { openServices } from "../../functions/_shared/services.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { reportSink } from "../../functions/_shared/db/reports.ts";
import { runWorker } from "../../functions/_shared/runtime/worker.ts";
import { HANDLERS } from "../../functions/steps.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import { background, detect, renderStars, simPoisson } from "../../core-wasm/mod.ts";

const DEMO_DIR = "data/demo";
const WIDTH = 512;
const HEIGHT = 1024;
const SKY = 400;
const STARS_PER_CCD = 150;

function progress(message: string): void {
  console.error(`[demo] ${message}`);
}

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Truth {
  x: number[];
  y: number[];
  flux: number[];
}

function simulateCcd(seed: number): { pixels: Float32Array; truth: Truth } {
  const random = rng(seed);
  const truth: Truth = { x: [], y: [], flux: [] };
  for (let i = 0; i < STARS_PER_CCD; i++) {
    truth.x.push(10 + random() * (WIDTH - 20));
    truth.y.push(10 + random() * (HEIGHT - 20));
    // fluxes from S/N ~ 10 to saturation-free bright stars, log-uniform
    truth.flux.push(10 ** (3.3 + 1.7 * random()));
  }
  const pixels = new Float32Array(WIDTH * HEIGHT).fill(SKY);
  renderStars({ data: pixels, width: WIDTH, height: HEIGHT }, truth.x, truth.y, truth.flux, {
    fwhm: 4,
  });
  simPoisson(pixels, seed, 1);
  return { pixels, truth };
}

/** Runs the demo; returns a process exit code. */
export async function demo(base: Config, _args: string[]): Promise<number> {
  await Deno.remove(DEMO_DIR, { recursive: true }).catch(() => {});
  const config: Config = {
    ...base,
    db: { ...base.db, url: "", data_dir: `${DEMO_DIR}/db` },
    storage: { ...base.storage, kind: "fs", root: `${DEMO_DIR}/store` },
    queue: { ...base.queue, kind: "memory" },
  };
  const log = new Logger({}, "warn");
  progress(`embedded mode: PGlite in ${DEMO_DIR}/db, objects in ${DEMO_DIR}/store`);
  const services = await openServices(config, { migrate: true });
  try {
    progress(
      `simulating a raw exposure: 2 CCDs of ${WIDTH}x${HEIGHT}, ${STARS_PER_CCD} stars each`,
    );
    const primary = new Header()
      .set("INSTRUME", "SimCam")
      .set("TELESCOP", "SimScope")
      .set("OBJECT", "demo-field")
      .set("FILTER", "r")
      .set("EXPTIME", 60)
      .set("MJD-OBS", 61000.25)
      .set("RA", "10:00:00.0")
      .set("DEC", "-05:00:00")
      .set("AIRMASS", 1.2);
    const ccds = [simulateCcd(1), simulateCcd(2)];
    const raw = writeFits([
      { header: primary },
      ...ccds.map((ccd, i) => ({ name: `N${i + 1}`, data: ccd.pixels, axes: [WIDTH, HEIGHT] })),
    ]);
    const key = "raw/demo_exposure.fits";
    await services.store.put(key, raw, { contentType: "application/fits" });

    progress("ingesting: exposures row + first step message");
    const ingest = await ingestObject(services, key, { provenanceTag: "demo" });

    progress("working the queue until it is empty");
    const stats = await runWorker({
      ...services,
      handlers: HANDLERS,
      config,
      log,
      reports: reportSink(services.db),
      signal: new AbortController().signal,
      untilEmpty: true,
    });
    const [summary] = await services.db.query<
      { summary: { values: Record<string, unknown>; imageCount: number }; filepath: string }
    >(
      "SELECT summary, filepath FROM header_summaries WHERE exposure_id = $1",
      [ingest.exposureId],
    );
    console.log(
      `exposure ${ingest.exposureId}: ${summary.summary.imageCount} CCDs, header`,
      summary.summary.values,
    );

    progress("imaging core on each CCD: background, detection at 5 sigma, match to truth");
    const fits = await openFits(await services.store.get(key), { name: key });
    console.log("\nccd   stars  detected  matched<1px  completeness(flux>3e4)  median |dx|");
    for (let i = 0; i < ccds.length; i++) {
      const image = await fits.image(`N${i + 1}`);
      const pixels = image.data as Float32Array;
      const bkg = background({ data: pixels, width: WIDTH, height: HEIGHT });
      const sub = new Float32Array(pixels.length);
      for (let p = 0; p < pixels.length; p++) sub[p] = pixels[p] - bkg.backImage[p];
      const found = detect({ data: sub, width: WIDTH, height: HEIGHT }, {
        noise: bkg.rmsImage,
        thresh: 5,
      }).objects;
      const { truth } = ccds[i];
      let matched = 0;
      let brightTotal = 0;
      let brightFound = 0;
      const offsets: number[] = [];
      for (let s = 0; s < truth.x.length; s++) {
        let best = Infinity;
        for (const o of found) {
          best = Math.min(best, Math.hypot(o.x - truth.x[s], o.y - truth.y[s]));
        }
        if (best < 1) {
          matched++;
          offsets.push(best);
        }
        if (truth.flux[s] > 3e4) {
          brightTotal++;
          if (best < 1) brightFound++;
        }
      }
      offsets.sort((a, b) => a - b);
      const median = offsets.length ? offsets[Math.floor(offsets.length / 2)] : NaN;
      console.log(
        `N${i + 1}    ${String(truth.x.length).padStart(5)}  ${String(found.length).padStart(8)}  ${
          String(matched).padStart(11)
        }  ${(brightFound / Math.max(1, brightTotal)).toFixed(3).padStart(22)}  ${
          median.toFixed(3).padStart(11)
        }`,
      );
    }
    const [{ n }] = await services.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reports",
    );
    console.log(`\nworker: ${JSON.stringify(stats)}; ${n} report row(s)`);
    console.log(
      `products: ${DEMO_DIR}/store/${key}, ${DEMO_DIR}/store/${summary.filepath}; database: ${DEMO_DIR}/db`,
    );
    return stats.dead_lettered === 0 && stats.released === 0 ? 0 : 1;
  } finally {
    await services.close();
  }
}
