import assert from "node:assert/strict";
import { background, backgroundMesh, renderMesh } from "./background.ts";
import { addGaussian, Rng } from "./_test_util.ts";

const W = 600, H = 450;
const sky = (x: number, y: number) => 200 + 0.05 * x - 0.03 * y + 1e-5 * (x - 300) ** 2;

function skyImage(seed: number): Float32Array {
  const rng = new Rng(seed);
  const data = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) data[y * W + x] = sky(x, y) + 5 * rng.normal();
  }
  for (let k = 0; k < 150; k++) {
    addGaussian(data, W, H, rng.uniform() * W, rng.uniform() * H, 1.5, 2000 * rng.uniform());
  }
  return data;
}

Deno.test("background recovers a known sky gradient and noise under stars", () => {
  const bkg = background({ data: skyImage(3), width: W, height: H });
  assert.equal(bkg.nbx, 10);
  assert.equal(bkg.nby, 8);
  let worst = 0, worstRms = 0;
  for (let y = 32; y < H - 32; y += 3) {
    for (let x = 32; x < W - 32; x += 3) {
      worst = Math.max(worst, Math.abs(bkg.backImage[y * W + x] - sky(x, y)));
      worstRms = Math.max(worstRms, Math.abs(bkg.rmsImage[y * W + x] - 5));
    }
  }
  // per-box mode noise ~ 5 * 1.3 / 64 = 0.1; median filtering and the spline keep it there
  assert.ok(worst < 0.5, `worst background error ${worst}`);
  assert.ok(worstRms < 0.3, `worst rms error ${worstRms}`);
  assert.ok(Math.abs(bkg.globalRms - 5) < 0.15, `global rms ${bkg.globalRms}`);
});

Deno.test("backgroundMesh: SIMD and scalar builds agree, and masks exclude pixels", () => {
  const data = skyImage(4);
  const mask = new Uint16Array(W * H);
  for (let y = 100; y < 140; y++) {
    for (let x = 0; x < W; x++) {
      mask[y * W + x] = 1;
      data[y * W + x] = 1e5;
    }
  }
  const a = backgroundMesh({ data, width: W, height: H }, { mask });
  const b = backgroundMesh({ data, width: W, height: H }, { mask, variant: "scalar" });
  for (let i = 0; i < a.back.length; i++) {
    assert.ok(Math.abs(a.back[i] - b.back[i]) < 1e-3, `box ${i}: ${a.back[i]} vs ${b.back[i]}`);
    assert.ok(Math.abs(a.rms[i] - b.rms[i]) < 1e-3);
  }
  assert.ok(Math.max(...a.back) < 300, "masked pixels do not leak into the background");
  const ra = renderMesh(a, a.back), rb = renderMesh(b, b.back, "scalar");
  let worst = 0;
  for (let i = 0; i < ra.length; i++) worst = Math.max(worst, Math.abs(ra[i] - rb[i]));
  assert.ok(worst < 2e-3, `render SIMD vs scalar ${worst}`);
});

Deno.test("renderMesh reproduces a plane exactly", () => {
  const mesh = backgroundMesh({ data: skyImage(5), width: W, height: H });
  const plane = new Float32Array(mesh.nbx * mesh.nby);
  for (let j = 0; j < mesh.nby; j++) {
    for (let i = 0; i < mesh.nbx; i++) {
      plane[j * mesh.nbx + i] = 3 + 0.5 * (i * 64 + 31.5) + 0.25 * (j * 64 + 31.5);
    }
  }
  const img = renderMesh(mesh, plane);
  for (const [x, y] of [[0, 0], [599, 449], [300, 17], [123, 400]]) {
    assert.ok(Math.abs(img[y * W + x] - (3 + 0.5 * x + 0.25 * y)) < 0.01, `${x},${y}`);
  }
});
