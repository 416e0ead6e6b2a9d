import assert from "node:assert/strict";
import { readFits } from "../fits/reader.ts";
import { SimCam } from "../instruments/simcam.ts";
import { FsObjectStore } from "../storage/fs_store.ts";
import { simulateField, type SimulateOptions, type SimulateProgress } from "./simulate.ts";

const small: SimulateOptions = {
  field: "tiny",
  nCcd: 1,
  ccdNx: 256,
  ccdNy: 512,
  refEpochs: 2,
  newEpochs: 2,
  biases: 2,
  flats: 2,
  transientsPerDeg2: 100000,
  movingPerDeg2: 0,
};

Deno.test("simulateField: calibrations, references then new epochs with transients, truth, manifest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skydiff_simulate_" });
  try {
    const seen: SimulateProgress[] = [];
    const m = await simulateField({ ...small, out: dir }, { progress: (p) => seen.push(p) });
    assert.deepEqual(m.exposures.map((e) => e.kind), [
      "bias",
      "bias",
      "flat",
      "flat",
      "reference",
      "reference",
      "new",
      "new",
    ]);
    assert.equal(seen.at(-1)?.done, 8);
    assert.equal(seen.at(-1)?.total, 8);
    const cam = new SimCam({ nCcd: 1, ccdNx: 256, ccdNy: 512 });
    for (const e of m.exposures) {
      const f = await readFits(await Deno.readFile(`${dir}/${e.raw}`));
      const primary = (await f.hdu(0)).header;
      const info = cam.exposureInfo(primary);
      assert.equal(info.type, e.kind === "bias" ? "bias" : e.kind === "flat" ? "flat" : "science");
      assert.ok(Math.abs(info.mjd - e.mjd) < 1e-9);
      const hdu = await f.hdu(cam.sectionIds()[0]);
      assert.deepEqual(cam.layout(hdu.header).amps.length, 2);
    }
    // references precede the new epochs by the gap; transients peak in the new epochs
    const refs = m.exposures.filter((e) => e.kind === "reference");
    const news = m.exposures.filter((e) => e.kind === "new");
    assert.ok(news[0].mjd - refs[1].mjd > 99);
    assert.ok(m.transients.length > 0);
    for (const t of m.transients) {
      assert.ok(t.mjdPeak >= news[0].mjd - 0.2 && t.mjdPeak <= news[1].mjd);
    }
    assert.ok(news.every((e) => e.transientsDrawn > 0));
    // in the references the transients are at least 10 mag below their peak
    const truth = await readFits(await Deno.readFile(`${dir}/${refs[0].truth}`));
    const t = await truth.table(`TRUTH_${cam.sectionIds()[0]}`);
    const kind = t.columns.find((c) => c.name === "KIND")!.data as string[];
    const mag = t.columns.find((c) => c.name === "MAG")!.data as Float64Array;
    const ids = t.columns.find((c) => c.name === "ID")!.data as BigInt64Array;
    const peak = new Map(m.transients.map((x) => [x.id, x.peakMag]));
    let checked = 0;
    kind.forEach((k, i) => {
      if (k.trim() !== "transient") return;
      const p = peak.get(Number(ids[i]));
      if (p !== undefined) {
        assert.ok(mag[i] > p + 10, `transient ${ids[i]} at ${mag[i]} in a reference (peak ${p})`);
        checked++;
      }
    });
    assert.ok(checked > 0);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    assert.equal(manifest.exposures.length, 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulateField: writes to an object store under a prefix; same options, same bytes", async () => {
  const root = await Deno.makeTempDir({ prefix: "skydiff_simulate_store_" });
  const dir = await Deno.makeTempDir({ prefix: "skydiff_simulate_dir_" });
  try {
    const store = new FsObjectStore({ root, fsync: false });
    const opts = { ...small, refEpochs: 1, newEpochs: 1, biases: 0, flats: 1, compress: false };
    const m = await simulateField({ ...opts, out: "sims/a" }, { store });
    const keys: string[] = [];
    for await (const k of store.list("sims/a/")) keys.push(k);
    assert.ok(keys.includes("sims/a/manifest.json"));
    assert.ok(keys.includes(`sims/a/${m.exposures[1].raw}`));
    await simulateField({ ...opts, out: dir });
    const a = await store.get(`sims/a/${m.exposures[2].raw}`);
    const b = await Deno.readFile(`${dir}/${m.exposures[2].raw}`);
    assert.deepEqual(a, b);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});
