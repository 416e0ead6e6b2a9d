import assert from "node:assert/strict";
import { Header } from "../_shared/fits/header.ts";
import { Rng } from "../_shared/sim/random.ts";
import { makeWcs, type Wcs, wcsToCards } from "../_shared/wcs/mod.ts";
import {
  type CoaddInput,
  type CoadditionInputs,
  type CoadditionParameters,
  CoadditionParams,
  coadditionStep,
  fluxScale,
} from "./step.ts";

const W = 200, H = 180, SKY = 300, SIGMA = 15, FWHM = 3.2;
const base = {
  crval: [150, 2] as [number, number],
  cd: [[-2.5e-4, 0], [0, 2.5e-4]] as [
    [number, number],
    [number, number],
  ],
};

interface Star {
  ra: number;
  dec: number;
  /** Flux at zero point ZP0. */
  flux: number;
}
const ZP0 = 25;

const runCoadd = (inputs: CoadditionInputs, params: CoadditionParameters) =>
  coadditionStep.run(inputs, params, undefined);

function stars(seed: number, n: number): Star[] {
  const rng = new Rng(seed);
  const w = makeWcs({ ...base, crpix: [W / 2, H / 2] });
  const out: Star[] = [];
  while (out.length < n) {
    const x = 15 + rng.uniform() * (W - 30), y = 15 + rng.uniform() * (H - 30);
    if (
      out.some((s) => {
        const p = w.skyToPix(s.ra, s.dec);
        return Math.hypot(p.x - x, p.y - y) < 14;
      })
    ) continue;
    out.push({ ...w.pixToSky(x, y), flux: 2e4 + rng.uniform() * 8e4 });
  }
  return out;
}

/** Pixel-integrated (7 x 7 subsamples) Gaussian stars, no noise. */
function render(wcs: Wcs, list: Star[], scale: number): Float32Array {
  const img = new Float32Array(W * H), s = FWHM / 2.3548, sub = 7;
  for (const st of list) {
    const p = wcs.skyToPix(st.ra, st.dec), f = st.flux * scale;
    for (let y = Math.floor(p.y) - 8; y <= Math.floor(p.y) + 9; y++) {
      for (let x = Math.floor(p.x) - 8; x <= Math.floor(p.x) + 9; x++) {
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        let v = 0;
        for (let j = 0; j < sub; j++) {
          for (let i = 0; i < sub; i++) {
            const dx = x - 0.5 + (i + 0.5) / sub - p.x, dy = y - 0.5 + (j + 0.5) / sub - p.y;
            v += Math.exp(-(dx * dx + dy * dy) / (2 * s * s));
          }
        }
        img[y * W + x] += f * v / (sub * sub) / (2 * Math.PI * s * s);
      }
    }
  }
  return img;
}

/** Epoch k: its WCS shifted by (dx, dy) px, zero point zp, sky + stars + Gaussian noise. */
function epoch(
  k: number,
  list: Star[],
  dx: number,
  dy: number,
  zp: number,
): { input: CoaddInput; wcs: Wcs } {
  const wcs = makeWcs({ ...base, crpix: [W / 2 + dx, H / 2 + dy] });
  const scale = 1 / fluxScale(zp, ZP0); // flux in this epoch's units
  const img = render(wcs, list, scale);
  const rng = new Rng(1000 + k);
  const weight = new Float32Array(W * H);
  for (let i = 0; i < img.length; i++) {
    img[i] += SKY + SIGMA * rng.normal();
    weight[i] = 1 / (SIGMA * SIGMA);
  }
  const header = new Header();
  const cards = wcsToCards(wcs);
  for (const [key, v, c] of cards) header.set(key, v, c);
  return {
    wcs,
    input: {
      id: `zp${k}`,
      image: { width: W, height: H, image: img, weight, flags: new Uint16Array(W * H), header },
      wcs: header,
      zp,
      mjd: 60000 + k,
      expTime: 60,
    },
  };
}

function robustStd(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const med = s[s.length >> 1];
  const dev = s.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  return 1.4826 * dev[dev.length >> 1];
}

/** Indices of pixels farther than 10 px from every star. */
function blank(wcs: Wcs, list: Star[]): number[] {
  const ps = list.map((s) => wcs.skyToPix(s.ra, s.dec));
  const out: number[] = [];
  for (let y = 5; y < H - 5; y++) {
    for (let x = 5; x < W - 5; x++) {
      if (ps.every((p) => Math.hypot(p.x - x, p.y - y) > 10)) out.push(y * W + x);
    }
  }
  return out;
}

function aperture(img: Float32Array, x0: number, y0: number, r: number): number {
  let s = 0;
  for (let y = Math.ceil(y0 - r); y <= Math.floor(y0 + r); y++) {
    for (let x = Math.ceil(x0 - r); x <= Math.floor(x0 + r); x++) {
      if ((x - x0) ** 2 + (y - y0) ** 2 <= r * r) s += img[y * W + x];
    }
  }
  return s;
}

Deno.test("coadditionStep.run: 4 exposures on one grid -> noise 1/sqrt(4) of one (10%)", async () => {
  const list = stars(1, 25);
  const eps = [0, 1, 2, 3].map((k) => epoch(k, list, 0, 0, ZP0));
  const params = CoadditionParams.parse({});
  const { outputs } = await runCoadd({ inputs: eps.map((e) => e.input) }, params);
  const single = await runCoadd({ inputs: [eps[0].input] }, params);
  const idx = blank(eps[0].wcs, list);
  const sCo = robustStd(idx.map((i) => outputs.image.image[i]));
  const s1 = robustStd(idx.map((i) => single.outputs.image.image[i]));
  const ratio = sCo / s1;
  assert.ok(Math.abs(ratio / 0.5 - 1) < 0.1, `noise ratio ${ratio} vs 0.5`);
  assert.ok(Math.abs(s1 / SIGMA - 1) < 0.05, `single-image noise ${s1} vs ${SIGMA}`);
  // weight = sum of the weights
  assert.ok(Math.abs(outputs.image.weight[idx[100]] * SIGMA * SIGMA - 4) < 1e-3);
  assert.equal(outputs.nCombine, 4);
  assert.equal(outputs.expTime, 240);
  assert.equal(outputs.mjdStart, 60000);
  assert.ok(Math.abs(outputs.mjdEnd - (60003 + 60 / 86400)) < 1e-9);
  assert.equal(outputs.image.header.get("NCOMBINE"), 4);
  assert.equal(outputs.image.header.get("MAGZP"), ZP0);
});

Deno.test("coadditionStep.run: shifted epochs at other zero points -> fluxes within 1%, noise as weighted, cosmic ray clipped", async () => {
  const list = stars(2, 25);
  const shifts = [[0, 0], [0.37, -0.21], [-0.52, 0.44], [1.29, 0.63]];
  const zps = [25, 25.3, 24.8, 25.1];
  const eps = shifts.map(([dx, dy], k) => epoch(k, list, dx, dy, zps[k]));
  // a cosmic ray in epoch 2 at a blank place of the grid
  const grid = eps[0].wcs;
  const idx = blank(grid, list);
  const crPix = idx[Math.floor(idx.length / 2)];
  const cx = crPix % W, cy = Math.floor(crPix / W);
  const sky = grid.pixToSky(cx, cy);
  const p2 = eps[2].wcs.skyToPix(sky.ra, sky.dec);
  eps[2].input.image.image[Math.round(p2.y) * W + Math.round(p2.x)] += 8000;
  const params = CoadditionParams.parse({});
  const { outputs } = await runCoadd({ inputs: eps.map((e) => e.input) }, params);
  assert.equal(outputs.zp, 25);
  // fluxes against the noise-free truth on the grid, in ZP0 units
  const truth = render(grid, list, 1);
  const ratios: number[] = [];
  for (const s of list) {
    const p = grid.skyToPix(s.ra, s.dec);
    ratios.push(aperture(outputs.image.image, p.x, p.y, 7) / aperture(truth, p.x, p.y, 7));
  }
  for (const r of ratios) assert.ok(Math.abs(r - 1) < 0.01, `flux ratio ${r}`);
  // noise: resampling interpolates variances (the noise of sums over areas larger than the
  // kernel is kept); the std of 8 x 8 box sums of (coadd - truth) on blank boxes is
  // sqrt(sum of 1/weight) (10%)
  const isBlank = new Uint8Array(W * H);
  for (const i of idx) isBlank[i] = 1;
  const sums: number[] = [], preds: number[] = [];
  for (let y0 = 5; y0 + 8 < H - 5; y0 += 8) {
    for (let x0 = 5; x0 + 8 < W - 5; x0 += 8) {
      let s = 0, v = 0, ok = true;
      for (let y = y0; y < y0 + 8 && ok; y++) {
        for (let x = x0; x < x0 + 8; x++) {
          const i = y * W + x;
          if (!isBlank[i] || Math.abs(x - cx) < 12 && Math.abs(y - cy) < 12) ok = false;
          s += outputs.image.image[i] - truth[i];
          v += 1 / outputs.image.weight[i];
        }
      }
      if (ok) sums.push(s), preds.push(v);
    }
  }
  assert.ok(sums.length > 150, `${sums.length} blank boxes`);
  const pred = Math.sqrt(preds.reduce((a, b) => a + b, 0) / preds.length);
  const meas = Math.sqrt(sums.reduce((a, b) => a + b * b, 0) / sums.length);
  assert.ok(Math.abs(meas / pred - 1) < 0.1, `box-sum noise ${meas} vs ${pred}`);
  // the cosmic ray is rejected: within 4 sigma of the truth around it
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
  const list = stars(3, 10);
  const eps = [[0, 0], [40, 0], [0, 30]].map(([dx, dy], k) => epoch(k, list, dx, dy, ZP0));
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

Deno.test("fluxScale: a fainter zero point scales values up", () => {
  assert.ok(Math.abs(fluxScale(24, 25) - 10 ** 0.4) < 1e-12);
  assert.equal(fluxScale(25, 25), 1);
});
