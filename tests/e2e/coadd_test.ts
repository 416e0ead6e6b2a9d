/**
 * Coaddition end to end on the embedded defaults (PGlite + a directory + the
 * in-process queue), and on Postgres 15 + S3 (MinIO) + SQS (ElasticMQ) when
 * scripts/services.sh has started them (ignored otherwise): four simulated epochs of one SimCam CCD (dithered by a few
 * arcsec) run preprocessing -> photocal; makeCoadd then coadds them
 *
 * - by zero-point ids and by position (ra, dec, filter, MJD range): the same
 *   coadd (one images row of type comsci with its components_hash, four
 *   image_coadd_components rows, the product file), the second call reused;
 * - the coadd's header has NCOMBINE 4, the summed EXPTIME and the MJD range; its
 *   sky noise (SKYSIGMA, from the weights) is 1/sqrt(4) of the inputs' (10%);
 * - the extraction message it sends runs extraction, astrocal and photocal on the
 *   coadd (image_id messages): the coadd's own photocal zero point agrees with
 *   the common zero point the coadd was scaled to (0.01 mag: fluxes preserved),
 *   and its limiting magnitude is 1.25 log10(4) deeper than the inputs' median (0.15 mag);
 * - a coaddition message (image_id of the coadd) under the coadd's tag finds it and
 *   its chain; under another tag with other parameters it makes a second coadd of the
 *   same components (same components_hash, another provenance); a coaddition message
 *   naming no coadd is dead-lettered.
 */
import assert from "node:assert/strict";
import { reportSink } from "../../functions/_shared/db/reports.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { runWorker } from "../../functions/_shared/runtime/worker.ts";
import { exposureFits } from "../../functions/_shared/sim/output.ts";
import { ConfigSchema } from "../../functions/config.ts";
import { makeCoadd } from "../../functions/coaddition/make.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import { registerMasters, simScience, simSetup } from "../../functions/preprocessing/_testing.ts";
import { HANDLERS } from "../../functions/steps.ts";
import { formatMessage, type StepMessage } from "../../functions/_shared/message.ts";
import { type TestEnv, testEnvironments } from "./_environments.ts";

const SKY = { seed: 3, starsPerDeg2: 150000, starSlope: 0.2 };
const N = 4;

type Env = TestEnv;

const ENV_OPTIONS = { prefix: "coadd", visibilitySeconds: 60, maxReceives: 2 };
const environments = testEnvironments(ENV_OPTIONS);

for (const [where, factory] of environments) {
  Deno.test({
    name: `makeCoadd (${where}${factory ? "" : ", ignored: servers not running"}): ` +
      "4 epochs through photocal -> one coadd, idempotent; extraction, astrocal and photocal run on it",
    ignore: factory === null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => coaddRun(factory!),
  });
}

async function coaddRun(factory: () => Promise<Env>): Promise<void> {
  const setup = simSetup({ nCcd: 1, frames: 3, sky: SKY });
  const services = await factory();
  const db = services.db;
  const config = ConfigSchema.parse({
    astrocal: { catalog: { kind: "simsky", simsky: SKY, field_radius_deg: 0.4 } },
  });
  const count = async (sql: string) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`))[0].n;
  const work = (extra: Record<string, unknown> = {}) =>
    runWorker({
      ...services,
      handlers: HANDLERS,
      config: extra ? ConfigSchema.parse({ ...config, ...extra }) : config,
      log: new Logger({}, "error", () => {}),
      reports: reportSink(db),
      signal: new AbortController().signal,
      untilEmpty: true,
      retryDelaySeconds: 0,
    });
  try {
    await registerMasters(db, services.store, setup);
    for (let k = 0; k < N; k++) {
      const exp = simScience(setup, {
        ra: 150.1 + 0.0011 * k,
        dec: 2.2 - 0.0007 * k,
        mjd: 60120.2 + k,
        expnum: 100 + k,
      });
      await services.store.put(`raw/sci${k}.fits`, exposureFits(exp));
      await ingestObject(services, `raw/sci${k}.fits`, {
        firstStep: "preprocessing",
        throughStep: "photocal",
      });
    }
    let stats = await work();
    assert.equal(stats.dead_lettered, 0);
    const zps = await db.query<{ id: string; zp: number; lim_mag: number }>(
      "SELECT id, zp, lim_mag FROM zero_points ORDER BY id",
    );
    assert.equal(zps.length, N);
    const singles = await db.query<
      { bkg_rms_estimate: number; ra: number; dec: number; filter: string }
    >("SELECT bkg_rms_estimate, ra, dec, filter FROM images WHERE type = 1");
    const filter = singles[0].filter;

    const byIds = await makeCoadd(services, { zpIds: zps.map((z) => z.id) }, {
      provenanceTag: "default",
      config,
      throughStep: "photocal",
    });
    assert.equal(byIds.reused, false);
    assert.equal(byIds.sent.length, 1);
    assert.equal(byIds.sent[0].image_id, byIds.imageId);
    const byQuery = await makeCoadd(
      services,
      { ra: singles[0].ra, dec: singles[0].dec, filter, maxMjd: 60124, minMjd: 60120 },
      { provenanceTag: "default", config },
    );
    assert.equal(byQuery.reused, true);
    assert.equal(byQuery.imageId, byIds.imageId);
    assert.equal(byQuery.componentsHash, byIds.componentsHash);
    // the default range (7 days before "now") finds nothing older
    await assert.rejects(
      makeCoadd(services, { ra: singles[0].ra, dec: singles[0].dec, filter }, {
        provenanceTag: "default",
        config,
        now: new Date(Date.UTC(2024, 0, 1)),
      }),
      /no calibrated images/,
    );

    const [img] = await db.query<Record<string, unknown>>(
      "SELECT type, components_hash, filepath, exp_time, mjd, zero_point_estimate, bkg_rms_estimate FROM images WHERE id = $1",
      [byIds.imageId],
    );
    assert.equal(Number(img.type), 2);
    assert.equal(img.components_hash, byIds.componentsHash);
    assert.equal(Number(img.exp_time), N * 90);
    assert.ok(Math.abs(Number(img.mjd) - 60120.2) < 1e-6);
    assert.ok(await services.store.head(String(img.filepath)));
    const comps = await db.query(
      "SELECT zp_id FROM image_coadd_components WHERE coadd_image_id = $1",
      [
        byIds.imageId,
      ],
    );
    assert.equal(comps.length, N);
    const single = singles.map((s) => Number(s.bkg_rms_estimate)).sort((a, b) => a - b);
    const ratio = Number(img.bkg_rms_estimate) / ((single[1] + single[2]) / 2);
    assert.ok(Math.abs(ratio * Math.sqrt(N) - 1) < 0.1, `coadd / single sky sigma ${ratio}`);

    // the coadd's own chain
    stats = await work();
    const failed = await db.query("SELECT error_message FROM reports WHERE status <> 2");
    assert.deepEqual(failed, []);
    assert.equal(stats.dead_lettered, 0);
    const [czp] = await db.query<{ zp: number; lim_mag: number }>(
      `SELECT z.zp, z.lim_mag FROM zero_points z JOIN world_coordinates w ON w.id = z.wcs_id
           JOIN source_lists s ON s.id = w.sources_id WHERE s.image_id = $1`,
      [byIds.imageId],
    );
    assert.ok(czp, "the coadd has a zero point");
    const zpOut = Number(img.zero_point_estimate);
    assert.ok(Math.abs(Number(czp.zp) - zpOut) < 0.01, `coadd zp ${czp.zp} vs ${zpOut}`);
    const lims = zps.map((z) => Number(z.lim_mag)).sort((a, b) => a - b);
    const medLim = (lims[1] + lims[2]) / 2;
    // N equal epochs: 1.25 log10(N) deeper (0.75 mag for 4)
    const gain = Number(czp.lim_mag) - medLim;
    assert.ok(Math.abs(gain - 1.25 * Math.log10(N)) < 0.15, `coadd depth gain ${gain} mag`);

    // a coaddition message naming the coadd under its tag: the same coadd, nothing new
    const message = (tag: string, extra: Partial<StepMessage> = {}): string =>
      formatMessage({
        v: 1,
        step: "coaddition",
        image_id: byIds.imageId,
        provenance_tag: tag,
        trace_id: "c0add0c0add0c0ad",
        attempt: 1,
        through_step: "photocal",
        ...extra,
      });
    await services.queue.send(message("default-coadd"));
    stats = await work();
    assert.equal(stats.dead_lettered, 0);
    assert.equal(await count("images WHERE type = 2"), 1);
    assert.equal(await count("source_lists"), N + 1, "the coadd's chain was found, not redone");
    // other critical parameters under another tag: a second coadd of the same components
    await services.queue.send(message("alt-coadd", { through_step: "coaddition" }));
    stats = await work({ coaddition: { kappa: 5 } });
    assert.deepEqual(
      await db.query("SELECT error_message FROM reports WHERE status <> 2"),
      [],
    );
    assert.equal(stats.dead_lettered, 0);
    const coadds = await db.query<{ components_hash: string; provenance_id: string }>(
      "SELECT components_hash, provenance_id FROM images WHERE type = 2",
    );
    assert.equal(coadds.length, 2);
    assert.equal(coadds[0].components_hash, coadds[1].components_hash);
    assert.notEqual(coadds[0].provenance_id, coadds[1].provenance_id);
    assert.equal(await count("image_coadd_components"), 2 * N);
    // a coaddition message without a coadd is an input error
    await services.queue.send(message("default-coadd", { image_id: crypto.randomUUID() }));
    stats = await work();
    assert.equal(stats.dead_lettered, 1);
  } finally {
    await services.close();
  }
}
