import assert from "node:assert/strict";
import {
  type CoadditionInputs,
  type CoadditionParameters,
  CoadditionParams,
  coadditionStep,
  fluxScale,
} from "./step.ts";
import {
  apertureSum,
  blankPixels,
  boxNoise,
  renderStars,
  robustStd,
  simEpoch,
  simField,
} from "./_testing.ts";

const runCoadd = (inputs: CoadditionInputs, params: CoadditionParameters) =>
  coadditionStep.run(inputs, params, undefined);

Deno.test("coadditionStep.run: 4 exposures on one grid -> noise 1/sqrt(4) of one (10%)", async () => {
  const field = simField(1, 25);
  const eps = [0, 1, 2, 3].map((k) => simEpoch(field, k));
  const params = CoadditionParams.parse({});
  const { outputs } = await runCoadd({ inputs: eps.map((e) => e.input) }, params);
  const single = await runCoadd({ inputs: [eps[0].input] }, params);
  const idx = blankPixels(field, eps[0].wcs);
  const sCo = robustStd(idx.map((i) => outputs.image.image[i]));
  const s1 = robustStd(idx.map((i) => single.outputs.image.image[i]));
  const ratio = sCo / s1;
  assert.ok(Math.abs(ratio / 0.5 - 1) < 0.1, `noise ratio ${ratio} vs 0.5`);
  assert.ok(Math.abs(s1 / 15 - 1) < 0.05, `single-image noise ${s1} vs 15`);
  // weight = sum of the weights
  assert.ok(Math.abs(outputs.image.weight[idx[100]] * 15 * 15 - 4) < 1e-3);
  assert.equal(outputs.nCombine, 4);
  assert.equal(outputs.expTime, 240);
  assert.equal(outputs.mjdStart, 60000);
  assert.ok(Math.abs(outputs.mjdEnd - (60003 + 60 / 86400)) < 1e-9);
  assert.equal(outputs.image.header.get("NCOMBINE"), 4);
  assert.equal(outputs.image.header.get("MAGZP"), 25);
});

Deno.test("coadditionStep.run: shifted epochs at other zero points -> fluxes within 1%, noise as weighted, cosmic ray clipped", async () => {
  const field = simField(2, 25);
  const W = field.width;
  const shifts = [[0, 0], [0.37, -0.21], [-0.52, 0.44], [1.29, 0.63]];
  const zps = [25, 25.3, 24.8, 25.1];
  const eps = shifts.map(([dx, dy], k) => simEpoch(field, k, { dx, dy, zp: zps[k] }));
  // a cosmic ray in epoch 2 at a blank place of the grid
  const grid = eps[0].wcs;
  const idx = blankPixels(field, grid);
  const crPix = idx[Math.floor(idx.length / 2)];
  const cx = crPix % W, cy = Math.floor(crPix / W);
  const sky = grid.pixToSky(cx, cy);
  const p2 = eps[2].wcs.skyToPix(sky.ra, sky.dec);
  eps[2].input.image.image[Math.round(p2.y) * W + Math.round(p2.x)] += 8000;
  const params = CoadditionParams.parse({});
  const { outputs } = await runCoadd({ inputs: eps.map((e) => e.input) }, params);
  assert.equal(outputs.zp, 25);
  // fluxes against the noise-free truth on the grid, in the first epoch's unit
  const truth = renderStars(field, grid, 1, 3.2);
  for (const s of field.stars) {
    const p = grid.skyToPix(s.ra, s.dec);
    const r = apertureSum(outputs.image.image, W, p.x, p.y, 7) / apertureSum(truth, W, p.x, p.y, 7);
    assert.ok(Math.abs(r - 1) < 0.01, `flux ratio ${r}`);
  }
  // noise of 8 x 8 box sums on blank areas as the weights predict (10%)
  const bn = boxNoise(
    outputs.image.image,
    outputs.image.weight,
    truth,
    W,
    field.height,
    idx,
    8,
    (x, y) => Math.abs(x - cx) < 12 && Math.abs(y - cy) < 12,
  );
  assert.ok(bn.boxes > 150, `${bn.boxes} blank boxes`);
  assert.ok(Math.abs(bn.measured / bn.predicted - 1) < 0.1, `box noise ${JSON.stringify(bn)}`);
  // the cosmic ray is rejected: within 4.5 sigma of the truth around it
  for (let dy = -3; dy <= 3; dy++) {
    for (let dx = -3; dx <= 3; dx++) {
      const i = (cy + dy) * W + cx + dx;
      const dev = (outputs.image.image[i] - truth[i]) * Math.sqrt(outputs.image.weight[i]);
      assert.ok(Math.abs(dev) < 4.5, `pixel (${cx + dx}, ${cy + dy}) ${dev} sigma`);
    }
  }
  // control: without clipping it would be there
  const noClip = await runCoadd(
    { inputs: eps.map((e) => e.input) },
    CoadditionParams.parse({ kappa: 1e6 }),
  );
  assert.ok(noClip.outputs.image.image[crPix] - truth[crPix] > 300);
});

Deno.test("coadditionStep.run: tan grid covers the union of shifted inputs; no-value pixels flagged", async () => {
  const field = simField(3, 10);
  const { width: W, height: H } = field;
  const eps = [[0, 0], [40, 0], [0, 30]].map(([dx, dy], k) => simEpoch(field, k, { dx, dy }));
  const { outputs } = await runCoadd(
    { inputs: eps.map((e) => e.input), center: { ra: 150, dec: 2 } },
    CoadditionParams.parse({ grid: "tan" }),
  );
  const { width, height } = outputs.image;
  // symmetric about the centre: the largest extent on each side
  assert.ok(width <= W + 2 * 40 + 3, `width ${width}`);
  assert.ok(height <= H + 2 * 30 + 3, `height ${height}`);
  for (const e of eps) {
    for (const [x, y] of [[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]]) {
      const sky = e.wcs.pixToSky(x, y);
      const p = outputs.wcs.skyToPix(sky.ra, sky.dec);
      assert.ok(p.x >= 0 && p.y >= 0 && p.x <= width - 1 && p.y <= height - 1);
    }
  }
  const c = outputs.wcs.pixToSky((width - 1) / 2, (height - 1) / 2);
  assert.ok(Math.abs(c.ra - 150) < 1e-9 && Math.abs(c.dec - 2) < 1e-9);
  let empty = 0;
  for (let i = 0; i < width * height; i++) {
    if (outputs.image.weight[i] === 0) {
      empty++;
      assert.ok((outputs.image.flags[i] & 8) !== 0);
    } else assert.equal(outputs.image.flags[i], 0);
  }
  assert.equal(empty, outputs.nEmpty);
  assert.ok(empty > 0);
});

Deno.test("coadditionStep.run: no inputs is an InputError", () => {
  assert.throws(() => runCoadd({ inputs: [] }, CoadditionParams.parse({})), /no input images/);
});

Deno.test("fluxScale: a fainter zero point scales values up", () => {
  assert.ok(Math.abs(fluxScale(24, 25) - 10 ** 0.4) < 1e-12);
  assert.equal(fluxScale(25, 25), 1);
});
