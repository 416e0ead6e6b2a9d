/**
 * preprocessing -> extraction -> astrocal -> photocal end to end on the embedded
 * defaults (PGlite + a directory + the in-process queue), from a simulated raw
 * SimCam exposure whose header WCS is off by 2' and rotated by 1 degree:
 *
 * - each of the two sections gets one world_coordinates row matching the rendered WCS to
 *   an RMS < 0.03" (max < 0.1") and one zero_points row within 0.01 mag of the truth; the images
 *   row's centre, corners and HEALPix move to the fitted footprint; one catalog
 *   excerpt for the field (catalog.field_radius_deg) is stored and read back by photocal;
 * - redelivered astrocal/photocal messages leave one product each;
 * - the same on Postgres 15 + S3 (MinIO) + SQS (ElasticMQ) when
 *   scripts/services.sh has started them (ignored otherwise);
 * - a catalog of another sky (no matching stars) is an AlgorithmError
 *   (xmatch_failed) with a reports row, no world coordinates, and the bit set
 *   on the source list.
 */
import assert from "node:assert/strict";
import type { Db } from "../../functions/_shared/db/db.ts";
import { reportSink } from "../../functions/_shared/db/reports.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { formatMessage } from "../../functions/_shared/message.ts";
import { runWorker } from "../../functions/_shared/runtime/worker.ts";
import { ccdFlat, SIM_EXTINCTION, SIM_ZEROPOINT } from "../../functions/_shared/sim/camera.ts";
import { exposureFits } from "../../functions/_shared/sim/output.ts";
import { tpvPixToSky } from "../../functions/_shared/sim/tpv.ts";
import { ang2pixNest, angularSeparationDeg } from "../../functions/_shared/sky/mod.ts";
import { HEALPIX_ORDER } from "../../functions/_shared/db/schema.ts";
import { wcsFromHeader } from "../../functions/_shared/wcs/mod.ts";
import { perturbCards } from "../../functions/_shared/astrometry/_testing.ts";
import { ConfigSchema } from "../../functions/config.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import { registerMasters, simScience, simSetup } from "../../functions/preprocessing/_testing.ts";
import { HANDLERS } from "../../functions/steps.ts";
import { embeddedEnv, type TestEnv, testEnvironments } from "./_environments.ts";

const SKY = { seed: 3, starsPerDeg2: 150000, starSlope: 0.2 };
const setup = simSetup({ nCcd: 2, frames: 3, sky: SKY });
const science = simScience(setup);
// the header's WCS is off: move CRVAL by 2' and rotate CD by 1 degree in every extension
for (const ccd of science.ccds) {
  const rec: Record<string, string | number> = {};
  for (const [k, v] of ccd.cards) if (typeof v !== "boolean") rec[k] = v;
  const moved = perturbCards(rec, [1.2, -1.6], 1, 1.01);
  ccd.cards = ccd.cards.map(([k, v, c]) => [k, k in moved ? moved[k] : v, c]);
}
const rawBytes = exposureFits(science);

type Env = TestEnv;

const ENV_OPTIONS = { prefix: "astro", visibilitySeconds: 30, maxReceives: 3 };
const env = embeddedEnv(ENV_OPTIONS);
const environments = testEnvironments(ENV_OPTIONS);

async function work(e: Env, skySeed = SKY.seed) {
  return await runWorker({
    ...e,
    handlers: HANDLERS,
    config: ConfigSchema.parse({
      // one excerpt per exposure pointing, shared by its CCDs
      astrocal: {
        catalog: { kind: "simsky", simsky: { ...SKY, seed: skySeed }, field_radius_deg: 0.4 },
      },
    }),
    log: new Logger({}, "error", () => {}),
    reports: reportSink(e.db),
    signal: new AbortController().signal,
    untilEmpty: true,
    retryDelaySeconds: 0,
  });
}

async function count(db: Db, sql: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`);
  return row.n;
}

for (const [where, factory] of environments) {
  Deno.test({
    name:
      `astrocal + photocal chain (${where}${factory ? "" : ", ignored: servers not running"}): ` +
      "WCS and zero point against truth, footprint updated, idempotent",
    ignore: factory === null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const e = await factory!();
      try {
        await registerMasters(e.db, e.store, setup);
        await e.store.put("raw/sci.fits", rawBytes);
        const ingest = await ingestObject(e, "raw/sci.fits", {
          firstStep: "preprocessing",
          throughStep: "photocal",
        });
        const stats = await work(e);
        assert.equal(stats.dead_lettered, 0);
        const failed = await e.db.query("SELECT error_message FROM reports WHERE status <> 2");
        assert.deepEqual(failed, []);
        const nCcd = science.ccds.length;
        assert.equal(await count(e.db, "world_coordinates"), nCcd);
        assert.equal(await count(e.db, "zero_points"), nCcd);
        assert.equal(await count(e.db, "catalog_excerpts"), 1, "one excerpt for the field");

        for (const ccd of science.ccds) {
          const [w] = await e.db.query<Record<string, unknown>>(
            `SELECT w.header, w.n_matched, w.rms_arcsec FROM world_coordinates w
               JOIN source_lists s ON s.id = w.sources_id JOIN images i ON i.id = s.image_id
              WHERE i.section_id = $1`,
            [ccd.id],
          );
          const wcs = wcsFromHeader(w.header as Record<string, string | number>);
          let worst = 0, sum2 = 0, n = 0;
          for (let y = 0; y < 1024; y += 32) {
            for (let x = 0; x < 512; x += 32) {
              const p = wcs.pixToSky(x, y), q = tpvPixToSky(ccd.wcs, x, y);
              const d = angularSeparationDeg(p.ra, p.dec, q.ra, q.dec) * 3600;
              worst = Math.max(worst, d);
              sum2 += d * d;
              n++;
            }
          }
          const rms = Math.sqrt(sum2 / n);
          assert.ok(rms < 0.03, `${ccd.id}: RMS distance to the true WCS ${rms}"`);
          assert.ok(worst < 0.1, `${ccd.id}: largest distance to the true WCS ${worst}"`);
          assert.ok(Number(w.n_matched) >= 20, `${ccd.id}: ${w.n_matched} matched`);

          const [img] = await e.db.query<Record<string, number>>(
            "SELECT ra, dec, ra_corner_00, dec_corner_00, healpix FROM images WHERE section_id = $1",
            [ccd.id],
          );
          const c = tpvPixToSky(ccd.wcs, 255.5, 511.5), c00 = tpvPixToSky(ccd.wcs, 0, 0);
          assert.ok(angularSeparationDeg(img.ra, img.dec, c.ra, c.dec) * 3600 < 0.03);
          assert.ok(
            angularSeparationDeg(img.ra_corner_00, img.dec_corner_00, c00.ra, c00.dec) * 3600 <
              0.03,
          );
          assert.equal(Number(img.healpix), ang2pixNest(HEALPIX_ORDER, img.ra, img.dec));

          const [zp] = await e.db.query<Record<string, unknown>>(
            `SELECT z.zp, z.dzp, z.aper_cors, z.lim_mag, z.n_stars FROM zero_points z
               JOIN world_coordinates w ON w.id = z.wcs_id
               JOIN source_lists s ON s.id = w.sources_id JOIN images i ON i.id = s.image_id
              WHERE i.section_id = $1`,
            [ccd.id],
          );
          // e- scaled by the median of the true flat (the master flat has unit median)
          const flat = Float64Array.from(ccdFlat(setup.cam, setup.cam.ccd(ccd.id))).sort();
          const zpTrue = SIM_ZEROPOINT.r - SIM_EXTINCTION.r * 1.2 + 2.5 * Math.log10(90) +
            2.5 * Math.log10(flat[flat.length >> 1]);
          assert.ok(Math.abs(Number(zp.zp) - zpTrue) < 0.01, `${ccd.id}: zp ${zp.zp} vs ${zpTrue}`);
          assert.ok(Number(zp.dzp) > 0 && Number(zp.dzp) < 0.01);
          assert.equal((zp.aper_cors as number[]).length, 4);
          assert.ok(Number(zp.lim_mag) > 21 && Number(zp.lim_mag) < 25);
        }

        // redelivery of both calibration messages: nothing new
        const m = ingest.messages[0];
        await e.queue.send(formatMessage({ ...m, step: "astrocal" }));
        await e.queue.send(formatMessage({ ...m, step: "photocal" }));
        const again = await work(e);
        assert.equal(again.dead_lettered, 0);
        assert.equal(await count(e.db, "world_coordinates"), nCcd);
        assert.equal(await count(e.db, "zero_points"), nCcd);
        assert.equal(await count(e.db, "catalog_excerpts"), 1);
      } finally {
        await e.close();
      }
    },
  });
}

Deno.test({
  name: "astrocal: a catalog of another sky is an AlgorithmError (xmatch_failed); no product",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const e = await env();
    try {
      await registerMasters(e.db, e.store, setup);
      await e.store.put("raw/sci.fits", rawBytes);
      await ingestObject(e, "raw/sci.fits", {
        firstStep: "preprocessing",
        throughStep: "photocal",
      });
      const stats = await work(e, 999);
      assert.equal(stats.dead_lettered, 0);
      const reports = await e.db.query<
        { status: number; error_type: string; error_message: string }
      >(
        "SELECT status, error_type, error_message FROM reports WHERE status <> 2",
      );
      assert.equal(reports.length, science.ccds.length, "one astrocal failure per section");
      assert.equal(reports[0].status, 4, "algorithm_error");
      assert.equal(reports[0].error_type, "AlgorithmError");
      assert.equal(await count(e.db, "world_coordinates"), 0);
      assert.equal(await count(e.db, "zero_points"), 0);
      const sls = await e.db.query<{ b: string }>("SELECT _bitflag::text AS b FROM source_lists");
      assert.equal(sls.length, science.ccds.length);
      for (const sl of sls) {
        assert.equal(BigInt(sl.b), 1n << 22n, "xmatch_failed on the source list");
      }
    } finally {
      await e.close();
    }
  },
});
