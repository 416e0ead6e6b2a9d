import assert from "node:assert/strict";
import { readCutoutsFile } from "../../api/cutouts_source.ts";
import { InputError } from "../errors.ts";
import { FsObjectStore } from "../storage/fs_store.ts";
import { Header } from "../fits/header.ts";
import { openFits } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";
import {
  CUTOUT_KINDS,
  cutoutExtname,
  type Cutouts,
  decodeCutouts,
  emptyCutouts,
  encodeCutouts,
} from "./cutouts_file.ts";

function sample(): Cutouts {
  const c = emptyCutouts(3, 5);
  c.header = new Header().set("MAGZP", 30.5);
  CUTOUT_KINDS.forEach((kind, k) => {
    for (let i = 0; i < c[kind].data.length; i++) {
      c[kind].data[i] = (k + 1) * 1000 + i * 0.25 - 7;
      c[kind].weight[i] = 1 / (1 + i + k);
      c[kind].flags[i] = (i * 7 + k) % 5 === 0 ? 0x8001 : i % 3;
    }
  });
  c.index.set([4, 9, 17]);
  c.x.set([10.25, 200.5, 1023.75]);
  c.y.set([3.5, 4000.125, 7]);
  c.ra.set([150.1, 150.2, 359.999]);
  c.dec.set([2.2, -2.3, 89.5]);
  return c;
}

Deno.test("encodeCutouts / decodeCutouts round-trip every cube, the centres and the header", async () => {
  const c = sample();
  const back = await decodeCutouts(await openFits(encodeCutouts(c), { name: "c.fits" }));
  assert.equal(back.size, 5);
  assert.equal(back.count, 3);
  for (const kind of CUTOUT_KINDS) {
    assert.deepEqual(back[kind].data, c[kind].data);
    assert.deepEqual(back[kind].weight, c[kind].weight);
    assert.deepEqual(back[kind].flags, c[kind].flags);
  }
  assert.deepEqual(back.index, c.index);
  assert.deepEqual(back.x, c.x);
  assert.deepEqual(back.y, c.y);
  assert.deepEqual(back.ra, c.ra);
  assert.deepEqual(back.dec, c.dec);
  assert.equal(back.header.get("MAGZP"), 30.5);
});

Deno.test("encodeCutouts writes the documented EXTNAMEs, axes and stamp planes", async () => {
  const c = sample();
  const fits = await openFits(encodeCutouts(c));
  const names = ["NEW", "NEW_WEIGHT", "NEW_FLAGS", "REF", "REF_WEIGHT", "REF_FLAGS"];
  names.push("SUB", "SUB_WEIGHT", "SUB_FLAGS");
  assert.deepEqual(
    CUTOUT_KINDS.flatMap((k) =>
      (["data", "weight", "flags"] as const).map((p) => cutoutExtname(k, p))
    ),
    names,
  );
  for (let i = 0; i < names.length; i++) {
    const hdu = await fits.hdu(i + 1);
    assert.equal(hdu.header.get("EXTNAME"), names[i]);
    const img = await hdu.readImage();
    assert.deepEqual(img.axes, [5, 5, 3]);
  }
  // plane 1, pixel (x=2, y=3) of SUB is value index 25 + 3 * 5 + 2
  const sub = await (await fits.hdu("SUB")).readImage();
  assert.equal(sub.data[25 + 17], c.sub.data[42]);
  assert.equal((await fits.hdu(10)).header.get("EXTNAME"), "SOURCES");
});

Deno.test("encodeCutouts / decodeCutouts round-trip an empty product", async () => {
  const back = await decodeCutouts(await openFits(encodeCutouts(emptyCutouts(0, 41))));
  assert.equal(back.count, 0);
  assert.equal(back.size, 41);
  assert.equal(back.sub.data.length, 0);
});

Deno.test("encodeCutouts refuses arrays of the wrong length and even sizes", () => {
  const c = sample();
  c.ref.weight = new Float32Array(10);
  assert.throws(() => encodeCutouts(c), /REF_WEIGHT has 10 values, expected 75/);
  assert.throws(() => encodeCutouts(emptyCutouts(1, 4)), /odd/);
});

Deno.test("decodeCutouts names the file and the HDU at fault", async () => {
  const c = sample();
  const good = await openFits(encodeCutouts(c));
  // drop REF_FLAGS: rebuild the file without it
  const hdus: Parameters<typeof writeFits>[0] = [{ header: (await good.hdu(0)).header }];
  for (let i = 1; i <= 9; i++) {
    const hdu = await good.hdu(i);
    const name = String(hdu.header.get("EXTNAME"));
    if (name === "REF_FLAGS") continue;
    const img = await hdu.readImage();
    hdus.push({ name, data: img.data, axes: img.axes });
  }
  const noFlags = await openFits(writeFits(hdus), { name: "broken.fits" });
  await assert.rejects(
    () => decodeCutouts(noFlags),
    (e) => e instanceof InputError && /broken\.fits HDU REF_FLAGS: missing/.test(e.message),
  );
  // wrong plane count in SUB
  hdus.splice(1);
  for (let i = 1; i <= 9; i++) {
    const hdu = await good.hdu(i);
    const name = String(hdu.header.get("EXTNAME"));
    const img = await hdu.readImage();
    const data = name === "SUB" ? img.data.slice(0, 50) : img.data;
    hdus.push({ name, data, axes: name === "SUB" ? [5, 5, 2] : img.axes });
  }
  await assert.rejects(
    async () => decodeCutouts(await openFitsSync(writeFits(hdus))),
    (e) => e instanceof InputError && /HDU SUB: is 5 x 5 x 2, expected 5 x 5 x 3/.test(e.message),
  );
  // no SOURCES table
  await assert.rejects(
    async () => decodeCutouts(await openFitsSync(writeFits(hdus.map((h) => h)))),
    InputError,
  );
  await assert.rejects(
    async () => decodeCutouts(await openFitsSync(writeFits([{}]))),
    (e) => e instanceof InputError && /STAMPSZ/.test(e.message),
  );
});

function openFitsSync(bytes: Uint8Array) {
  return openFits(bytes, { name: "x.fits" });
}

Deno.test("encodeCutouts files are what the API's readCutoutsFile reads", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = new FsObjectStore({ root, fsync: false });
    const c = sample();
    await store.put("cutouts/x.fits", encodeCutouts(c));
    const t = await readCutoutsFile(store, "cutouts/x.fits", 2);
    assert.equal(t.size, 5);
    assert.equal(t.count, 3);
    assert.deepEqual(t.new, c.new.data.slice(50, 75));
    assert.deepEqual(t.ref, c.ref.data.slice(50, 75));
    assert.deepEqual(t.sub, c.sub.data.slice(50, 75));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
