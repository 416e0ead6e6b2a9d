import assert from "node:assert/strict";
import { openMigratedPglite } from "../db/testing.ts";
import { Header } from "../fits/header.ts";
import { badPixelMask } from "../instruments/instrument.ts";
import { SimCam } from "../instruments/simcam.ts";
import { ccdFlat, type RenderedCcd, renderExposure } from "../sim/camera.ts";
import { SimSky } from "../sim/sky.ts";
import { FsObjectStore } from "../storage/fs_store.ts";
import { findCalibrator, loadCalibrator, masterBias, masterFlat, saveCalibrator } from "./mod.ts";

const cam = new SimCam({ nCcd: 1, ccdNx: 256, ccdNy: 512, seed: 8 });
const sky = new SimSky({ seed: 1 });
const id = cam.sectionIds()[0];
const base = { ra: 10, dec: 0, mjd: 60000.9, band: "g" as const };

function frames(type: "bias" | "flat", n: number, first: number): RenderedCcd[] {
  return Array.from(
    { length: n },
    (_, k) =>
      renderExposure(cam, sky, { ...base, type, expnum: first + k, flatLevel: 20000 }).ccds[0],
  );
}
const asRaw = (c: RenderedCcd) => ({
  raw: c.raw,
  layout: cam.layout(Header.from([["NAXIS1", c.rawNx], ["NAXIS2", c.rawNy], ...c.cards])),
});

Deno.test("masterBias: recovers the fixed bias pattern the overscan cannot remove", () => {
  const biases = frames("bias", 5, 100);
  const m = masterBias(biases.map(asRaw));
  assert.equal(m.nx, 256);
  assert.equal(m.nFrames, 5);
  const geo = cam.rawGeometry();
  let worst = 0, resid = 0, n = 0;
  for (const [i, g] of geo.entries()) {
    for (let x = g.data.x0; x < g.data.x1; x++) {
      const tx = x - g.data.x0 + g.trim.x0;
      let s = 0;
      for (let y = 20; y < 492; y++) {
        const v = m.image[y * 256 + tx];
        s += v;
        resid += (v - biases[0].biasCols[i][x]) ** 2;
        n++;
      }
      worst = Math.max(worst, Math.abs(s / 472 - biases[0].biasCols[i][x]));
    }
  }
  // column means over 472 rows of 5 frames: noise about 1.6 / sqrt(2360) ADU
  assert.ok(worst < 0.25, `column mean off by ${worst} ADU`);
  // pixel scatter: read noise / sqrt(5) (plus the overscan row median's noise)
  const rms = Math.sqrt(resid / n), rn = cam.ccd(id).amps[0].readNoise / cam.ccd(id).amps[0].gain;
  assert.ok(rms > 0.8 * rn / Math.sqrt(5) && rms < 1.5 * rn / Math.sqrt(5), `rms ${rms}`);
});

Deno.test("masterFlat: recovers the true flat to the photon noise of the stack", () => {
  const bias = masterBias(frames("bias", 5, 200).map(asRaw));
  const flats = frames("flat", 5, 300);
  const m = masterFlat(flats.map(asRaw), bias);
  assert.ok(Math.abs(m.median - 1) < 1e-6);
  const truth = ccdFlat(cam, cam.ccd(id));
  const sorted = Float64Array.from(truth).sort();
  const tmed = sorted[sorted.length >> 1];
  const bad = badPixelMask(cam.badPixels(id, 256, 512), 256, 512);
  let s2 = 0, t2 = 0, n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (bad[i]) continue; // dead columns and hot pixels have no flat to recover
    const t = truth[i] / tmed;
    s2 += (m.image[i] / t - 1) ** 2;
    t2 += (t - 1) ** 2;
    n++;
  }
  // 5 flats of ~20000 e- each: 1/sqrt(1e5) = 0.32% per pixel
  const rms = Math.sqrt(s2 / n);
  assert.ok(rms > 0.0025 && rms < 0.0045, `residual rms ${rms}`);
  assert.ok(Math.sqrt(t2 / n) > 3 * rms, "the flat's own structure is well above the residual");
});

Deno.test("saveCalibrator/findCalibrator/loadCalibrator: by instrument, section, filter, date", async () => {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir({ prefix: "skydiff_calib_" });
  const store = new FsObjectStore({ root, fsync: false });
  try {
    const bias = masterBias(frames("bias", 3, 400).map(asRaw));
    const flat = masterFlat(frames("flat", 3, 500).map(asRaw), bias);
    const d = (s: string) => new Date(s);
    const old = await saveCalibrator(db, store, {
      type: "zero",
      instrument: "SimCam",
      sectionId: id,
      validFrom: d("2023-01-01T00:00:00Z"),
      validUntil: d("2023-06-01T00:00:00Z"),
      frame: bias,
    });
    const recent = await saveCalibrator(db, store, {
      type: "zero",
      instrument: "SimCam",
      sectionId: id,
      validFrom: d("2023-05-01T00:00:00Z"),
      frame: bias,
    });
    await saveCalibrator(db, store, {
      type: "flat",
      instrument: "SimCam",
      sectionId: id,
      filter: "g",
      validFrom: d("2023-01-01T00:00:00Z"),
      frame: flat,
    });
    const q = { instrument: "SimCam", sectionId: id, type: "zero" as const };
    assert.equal((await findCalibrator(db, { ...q, date: d("2023-02-01T00:00:00Z") }))?.id, old.id);
    assert.equal(
      (await findCalibrator(db, { ...q, date: d("2023-05-15T00:00:00Z") }))?.id,
      recent.id,
    );
    assert.equal(await findCalibrator(db, { ...q, date: d("2022-12-31T00:00:00Z") }), null);
    assert.equal(await findCalibrator(db, { ...q, sectionId: "N31", date: d("2023-05-15") }), null);
    const fq = {
      instrument: "SimCam",
      sectionId: id,
      type: "flat" as const,
      date: d("2024-01-01"),
    };
    const fr = await findCalibrator(db, { ...fq, filter: "g" });
    assert.equal(fr?.flatType, "dome");
    assert.equal(await findCalibrator(db, { ...fq, filter: "r" }), null);
    const back = await loadCalibrator(store, fr!);
    assert.deepEqual(back.image, flat.image);
    assert.equal(back.nFrames, 3);
    await assert.rejects(() =>
      saveCalibrator(db, store, { type: "flat", instrument: "SimCam", sectionId: id, frame: flat })
    );
  } finally {
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});
