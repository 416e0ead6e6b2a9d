/**
 * `skydiff demo` (`deno task demo`): the pipeline end to end on the embedded
 * defaults (PGlite, a local directory, the in-process queue), in data/demo/.
 *
 * What runs today: a simulated field (SimCam: bias and dome-flat exposures, then
 * a science exposure) is written to the object store; master bias and flat are
 * built and registered; the science exposure is ingested (one message per CCD)
 * and worked through the queue — preprocessing, extraction, astrocal, photocal —
 * and every CCD's products are compared with the simulator's truth. The later
 * steps (subtraction through scoring, against a reference) join this demo as
 * they land.
 *
 * @module
 */
import type { Config } from "../../functions/config.ts";
import { reportSink } from "../../functions/_shared/db/reports.ts";
import { openFits } from "../../functions/_shared/fits/reader.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { decodeSourceList } from "../../functions/_shared/products/source_list_file.ts";
import { runWorker } from "../../functions/_shared/runtime/worker.ts";
import { openServices } from "../../functions/_shared/services.ts";
import { simulateField } from "../../functions/_shared/sim/simulate.ts";
import { wcsFromHeader } from "../../functions/_shared/wcs/mod.ts";
import { buildMasters } from "../../functions/calibrate/calibrate.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import { HANDLERS } from "../../functions/steps.ts";

const DEMO_DIR = "data/demo";
const PIXEL_SCALE = 0.263;
const SIM = {
  out: "sim",
  field: "demo",
  nCcd: 2,
  ccdNx: 1024,
  ccdNy: 2048,
  refEpochs: 0,
  newEpochs: 1,
  biases: 3,
  flats: 3,
  skySeed: 7,
  compress: true,
};

function progress(message: string): void {
  console.error(`[demo] ${message}`);
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

/** Runs the demo; returns a process exit code. */
export async function demo(base: Config, _args: string[]): Promise<number> {
  await Deno.remove(DEMO_DIR, { recursive: true }).catch(() => {});
  const config: Config = {
    ...base,
    db: { ...base.db, url: "", data_dir: `${DEMO_DIR}/db` },
    storage: { ...base.storage, kind: "fs", root: `${DEMO_DIR}/store` },
    queue: { ...base.queue, kind: "memory" },
    astrocal: {
      ...base.astrocal,
      // the simulated sky is the reference catalog; field_radius_deg > 0: one excerpt per pointing
      catalog: {
        ...(base.astrocal as { catalog: Record<string, unknown> }).catalog,
        kind: "simsky",
        simsky: { seed: SIM.skySeed },
        field_radius_deg: 0.4,
      },
    },
  };
  progress(`embedded mode: PGlite in ${DEMO_DIR}/db, objects in ${DEMO_DIR}/store`);
  const services = await openServices(config, { migrate: true });
  const started = performance.now();
  try {
    progress(
      `simulating a field: ${SIM.biases} biases, ${SIM.flats} flats, one science exposure ` +
        `(${SIM.nCcd} CCDs of ${SIM.ccdNx}x${SIM.ccdNy})`,
    );
    const manifest = await simulateField(SIM, {
      store: services.store,
      progress: (p) => progress(`  ${p.message}`),
    });
    const keyOf = (path: string) => `${SIM.out}/${path}`;
    const ofKind = (kind: string) => manifest.exposures.filter((e) => e.kind === kind);

    progress("building master bias and flat per CCD, registered as calibrator files");
    await buildMasters(services, {
      biasKeys: ofKind("bias").map((e) => keyOf(e.raw)),
      flatKeys: ofKind("flat").map((e) => keyOf(e.raw)),
    }, (m) => progress(`  ${m}`));

    const [science] = ofKind("new");
    progress(`ingesting ${science.raw}: one message per CCD, through photocal`);
    const ingest = await ingestObject(services, keyOf(science.raw), {
      provenanceTag: "demo",
      firstStep: "preprocessing",
      throughStep: "photocal",
    });

    progress("working the queue until it is empty (JSON logs at warn level and above)");
    const stats = await runWorker({
      ...services,
      handlers: HANDLERS,
      config,
      log: new Logger({}, "warn"),
      reports: reportSink(services.db),
      signal: new AbortController().signal,
      untilEmpty: true,
      retryDelaySeconds: 0,
    });

    const truth = await openFits(await services.store.get(keyOf(science.truth!)), {
      name: science.truth!,
    });
    const rows = await services.db.query<{
      section_id: string;
      image_key: string;
      sources_key: string;
      num_sources: number;
      header: Record<string, unknown>;
      n_matched: number;
      zp: number;
      dzp: number;
      lim_mag: number;
    }>(
      `SELECT i.section_id, i.filepath AS image_key, s.filepath AS sources_key, s.num_sources,
              w.header, w.n_matched, z.zp, z.dzp, z.lim_mag
       FROM images i JOIN source_lists s ON s.image_id = i.id
       JOIN world_coordinates w ON w.sources_id = s.id JOIN zero_points z ON z.wcs_id = w.id
       WHERE i.exposure_id = $1 ORDER BY i.section_id`,
      [ingest.exposureId],
    );
    console.log(
      "\nCCD   sources  stars(mag<21) found  astrometry rms vs truth  zero point (truth)     lim. mag",
    );
    for (const row of rows) {
      const table = await truth.table(`TRUTH_${row.section_id}`);
      const col = (name: string) =>
        table.columns.find((c) => c.name === name)!.data as ArrayLike<number>;
      const kinds = table.columns.find((c) => c.name === "KIND")!.data as string[];
      const [tx, ty, tra, tdec, tmag] = ["X", "Y", "RA", "DEC", "MAG"].map(col);
      const truthHeader = (await truth.hdu(`TRUTH_${row.section_id}`)).header;
      const sources = await decodeSourceList(
        await openFits(await services.store.get(row.sources_key), { name: row.sources_key }),
      );
      const wcs = wcsFromHeader(row.header as Record<string, string | number>);
      let stars = 0;
      let found = 0;
      let sumSq = 0;
      for (let i = 0; i < table.nrows; i++) {
        if (kinds[i].trim() !== "star" || tmag[i] > 21) continue;
        stars++;
        let best = Infinity;
        for (let s = 0; s < sources.count; s++) {
          const d = Math.hypot(sources.X[s] - tx[i], sources.Y[s] - ty[i]);
          if (d < best) best = d;
        }
        if (best < 1.5) found++;
        const p = wcs.skyToPix(tra[i], tdec[i]);
        sumSq += (p.x - tx[i]) ** 2 + (p.y - ty[i]) ** 2;
      }
      const rms = Math.sqrt(sumSq / Math.max(1, stars)) * PIXEL_SCALE;
      const truthZp = truthHeader.getNumber("ZP_E");
      console.log(
        `${row.section_id.padEnd(4)} ${pad(row.num_sources, 8)}  ${pad(stars, 13)} ${
          pad(found, 5)
        }  ${pad(rms.toFixed(4) + '"', 23)}  ${
          pad(`${row.zp.toFixed(3)}±${row.dzp.toFixed(3)} (${truthZp?.toFixed(3)})`, 21)
        }  ${pad(row.lim_mag.toFixed(2), 8)}`,
      );
    }
    const [{ n }] = await services.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM reports WHERE exposure_id = $1 AND status = 2",
      [ingest.exposureId],
    );
    console.log(
      `\n${rows.length} CCDs calibrated; worker ${JSON.stringify(stats)}; ${n} step reports; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(
      `the truth zero point is of the sky before the flat; the master flat's unit median moves it slightly`,
    );
    console.log(
      `products: ${DEMO_DIR}/store/ (e.g. ${rows[0]?.image_key}); database: ${DEMO_DIR}/db`,
    );
    const ok = rows.length === SIM.nCcd &&
      stats.dead_lettered + stats.released + stats.failed === 0;
    return ok ? 0 : 1;
  } finally {
    await services.close();
  }
}
