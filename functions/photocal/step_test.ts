import assert from "node:assert/strict";
import { simulateCcd } from "../_shared/astrometry/_testing.ts";
import { AlgorithmError } from "../_shared/errors.ts";
import { PhotocalParams, photocalStep } from "./step.ts";

const sim = await simulateCcd();
const inputs = (over: Partial<Parameters<typeof photocalStep.run>[0]> = {}) => ({
  sources: sim.list,
  width: sim.width,
  height: sim.height,
  wcs: sim.cards,
  bestAperture: null,
  mjd: sim.options.mjd,
  expTime: sim.options.exptime,
  band: sim.options.band,
  instrument: sim.cam,
  refStars: sim.refStars,
  ...over,
});

Deno.test("photocalStep.run: zero point within 0.01 mag of truth, aperture corrections ordered", async () => {
  const { outputs } = await photocalStep.run(inputs(), PhotocalParams.parse({}), undefined);
  assert.ok(Math.abs(outputs.zp - sim.zpTrue) < 0.01, `${outputs.zp} vs ${sim.zpTrue}`);
  assert.ok(outputs.dzp > 0 && outputs.dzp < 0.01);
  assert.equal(outputs.aperCors.length, 4);
  assert.equal(outputs.aperCors[3], 0);
  // smaller apertures miss more light
  assert.ok(outputs.aperCors[0] < outputs.aperCors[1] && outputs.aperCors[1] < 0);
  assert.ok(outputs.nStars >= 10);
  assert.ok(outputs.limMag > 21 && outputs.limMag < 25);
});

Deno.test("photocalStep.run: the zero point of another aperture agrees once corrected", async () => {
  const a = await photocalStep.run(
    inputs(),
    PhotocalParams.parse({ aperture_index: 0 }),
    undefined,
  );
  const b = await photocalStep.run(
    inputs(),
    PhotocalParams.parse({ aperture_index: 2 }),
    undefined,
  );
  assert.ok(Math.abs(a.outputs.zp - b.outputs.zp) < 0.01, `${a.outputs.zp} vs ${b.outputs.zp}`);
});

Deno.test("photocalStep.run: a colour range no star has is an AlgorithmError", async () => {
  await assert.rejects(
    async () =>
      await photocalStep.run(
        inputs(),
        PhotocalParams.parse({ colour_range: [5, 6], apcor_min_stars: 3 }),
        undefined,
      ),
    (err: unknown) => err instanceof AlgorithmError && /zero-point stars/.test(err.message),
  );
});
