import assert from "node:assert/strict";
import { perturbCards, simulateCcd } from "../_shared/astrometry/_testing.ts";
import { AlgorithmError } from "../_shared/errors.ts";
import { tpvPixToSky } from "../_shared/sim/tpv.ts";
import { angularSeparationDeg } from "../_shared/sky/mod.ts";
import { wcsFromHeader } from "../_shared/wcs/mod.ts";
import { AstrocalParams, astrocalStep } from "./step.ts";

const sim = await simulateCcd();
const params = AstrocalParams.parse({});
const inputs = (over: Partial<Parameters<typeof astrocalStep.run>[0]> = {}) => ({
  sources: sim.list,
  width: sim.width,
  height: sim.height,
  header: perturbCards(sim.cards, [1.2, -1.6], 1, 1.01),
  mjd: sim.options.mjd,
  expTime: sim.options.exptime,
  refStars: sim.refStars,
  ...over,
});

Deno.test("astrocalStep.run recovers the WCS of a CCD whose header is off by 2', 1 deg, 1%", async () => {
  const { outputs, metrics } = await astrocalStep.run(inputs(), params, undefined);
  const wcs = wcsFromHeader(outputs.cards);
  assert.equal(outputs.projection, "tan_sip");
  let s = 0, n = 0;
  for (let y = 0; y < sim.height; y += 64) {
    for (let x = 0; x < sim.width; x += 64) {
      const p = wcs.pixToSky(x, y), q = tpvPixToSky(sim.ccd.wcs, x, y);
      s += (angularSeparationDeg(p.ra, p.dec, q.ra, q.dec) * 3600) ** 2;
      n++;
    }
  }
  assert.ok(Math.sqrt(s / n) < 0.03, `rms ${Math.sqrt(s / n)}"`);
  assert.ok(metrics.centre_shift_arcsec > 110 && metrics.centre_shift_arcsec < 130);
  // the footprint's corners are the fitted WCS's
  const c = tpvPixToSky(sim.ccd.wcs, sim.width - 1, 0);
  assert.ok(
    angularSeparationDeg(
          outputs.footprint.corners.ra[2],
          outputs.footprint.corners.dec[2],
          c.ra,
          c.dec,
        ) *
        3600 < 0.05,
  );
});

Deno.test("astrocalStep.run: an empty catalog is no_catalog, another sky's is xmatch_failed", async () => {
  await assert.rejects(
    async () => await astrocalStep.run(inputs({ refStars: [] }), params, undefined),
    (err: unknown) => err instanceof AlgorithmError && err.badness === "no_catalog",
  );
  // the same catalog rotated by 90 degrees about the CCD centre: no similarity within 5 degrees
  const c = tpvPixToSky(sim.ccd.wcs, sim.width / 2, sim.height / 2);
  const cosd = Math.cos((c.dec * Math.PI) / 180);
  const turned = sim.refStars.map((s) => ({
    ...s,
    ra: c.ra - ((s.dec - c.dec) / cosd),
    dec: c.dec + (s.ra - c.ra) * cosd,
  }));
  await assert.rejects(
    async () => await astrocalStep.run(inputs({ refStars: turned }), params, undefined),
    (err: unknown) => err instanceof AlgorithmError && err.badness === "xmatch_failed",
  );
});

Deno.test("astrocalStep.run: a header without a WCS is xmatch_failed", async () => {
  await assert.rejects(
    async () => await astrocalStep.run(inputs({ header: { NAXIS: 2 } }), params, undefined),
    (err: unknown) => err instanceof AlgorithmError && err.badness === "xmatch_failed",
  );
});
