import assert from "node:assert/strict";
import { findCalibrator, loadCalibrator } from "../_shared/calibration/registry.ts";
import { openMigratedPglite } from "../_shared/db/testing.ts";
import { MemoryQueue } from "../_shared/queue/memory_queue.ts";
import { simulateField } from "../_shared/sim/simulate.ts";
import { FsObjectStore } from "../_shared/storage/fs_store.ts";
import { buildMasters } from "./calibrate.ts";

Deno.test("buildMasters registers a master bias per section and a unit-median flat per band", async () => {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir();
  try {
    const services = { db, store: new FsObjectStore({ root }), queue: new MemoryQueue("unused") };
    const manifest = await simulateField({
      out: "sim",
      nCcd: 2,
      ccdNx: 128,
      ccdNy: 256,
      refEpochs: 0,
      newEpochs: 0,
      biases: 3,
      flats: 3,
      compress: false,
    }, { store: services.store });
    const keys = (kind: string) =>
      manifest.exposures.filter((e) => e.kind === kind).map((e) => `sim/${e.raw}`);
    const saved = await buildMasters(services, { biasKeys: keys("bias"), flatKeys: keys("flat") });
    assert.equal(saved.length, 4, "2 sections x (bias + flat)");
    const firstMjd = Math.min(...manifest.exposures.map((e) => e.mjd));
    const date = new Date((firstMjd + 1 - 40587) * 86400000);
    for (const sectionId of new Set(saved.map((s) => s.sectionId))) {
      const bias = await findCalibrator(db, {
        instrument: "SimCam",
        sectionId,
        type: "zero",
        date,
      });
      const flat = await findCalibrator(db, {
        instrument: "SimCam",
        sectionId,
        type: "flat",
        filter: "r",
        date,
      });
      assert.ok(bias && flat, `masters of ${sectionId} are found by date`);
      const frame = await loadCalibrator(services.store, flat);
      const sorted = Float32Array.from(frame.image).sort();
      assert.ok(Math.abs(sorted[sorted.length >> 1] - 1) < 1e-3, "the flat has unit median");
      assert.equal(
        await findCalibrator(db, {
          instrument: "SimCam",
          sectionId,
          type: "zero",
          date: new Date((firstMjd - 1 - 40587) * 86400000),
        }),
        null,
        "nothing is valid before the first frame",
      );
    }
  } finally {
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildMasters names a file without INSTRUME", async () => {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir();
  try {
    const { writeFits } = await import("../_shared/fits/writer.ts");
    const store = new FsObjectStore({ root });
    await store.put("raw/odd.fits", writeFits([{}]));
    await assert.rejects(
      () =>
        buildMasters({ db, store, queue: new MemoryQueue("unused") }, {
          biasKeys: ["raw/odd.fits"],
          flatKeys: [],
        }),
      /raw\/odd\.fits: primary header needs INSTRUME and MJD-OBS/,
    );
  } finally {
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});
