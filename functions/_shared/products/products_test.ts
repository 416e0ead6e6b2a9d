import assert from "node:assert/strict";
import { InputError } from "../errors.ts";
import { Header } from "../fits/header.ts";
import { openFits } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";
import { decodeImage, encodeImage, type ImageData } from "./image_file.ts";
import { productKey } from "./keys.ts";
import { decodeSourceList, emptySourceList, encodeSourceList } from "./source_list_file.ts";

function sampleImage(): ImageData {
  const width = 7;
  const height = 5;
  const n = width * height;
  return {
    width,
    height,
    image: Float32Array.from({ length: n }, (_, i) => i * 1.5 - 3),
    weight: Float32Array.from({ length: n }, (_, i) => 1 / (1 + i)),
    flags: Uint16Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 2 ** 15 + 1 : i % 3)),
    header: new Header().set("CTYPE1", "RA---TAN").set("CRVAL1", 150.1).set("MAGZP", 31.25),
  };
}

Deno.test("encodeImage / decodeImage round-trip pixels, weights, flags and header", async () => {
  const data = sampleImage();
  const back = await decodeImage(await openFits(encodeImage(data), { name: "img.fits" }));
  assert.equal(back.width, 7);
  assert.equal(back.height, 5);
  assert.deepEqual(back.image, data.image);
  assert.deepEqual(back.weight, data.weight);
  assert.deepEqual(back.flags, data.flags);
  assert.equal(back.header.get("MAGZP"), 31.25);
});

Deno.test("encodeImage repeats the WCS cards in every extension", async () => {
  const fits = await openFits(encodeImage(sampleImage()));
  for (const name of ["IMAGE", "WEIGHT", "FLAGS"]) {
    const hdu = await fits.hdu(name);
    assert.equal(hdu.header.get("CTYPE1"), "RA---TAN");
    assert.equal(hdu.header.get("MAGZP"), undefined);
  }
});

Deno.test("encodeImage rejects planes of the wrong size", () => {
  assert.throws(
    () => encodeImage({ ...sampleImage(), weight: new Float32Array(3) }),
    /weight has 3 pixels/,
  );
});

Deno.test("decodeImage names the file and HDU of a malformed product", async () => {
  const { image, weight } = sampleImage();
  const missing = writeFits([{}, { name: "IMAGE", data: image, axes: [7, 5] }]);
  await assert.rejects(
    async () => await decodeImage(await openFits(missing, { name: "bad.fits" })),
    (e: unknown) =>
      e instanceof InputError && /bad\.fits: no WEIGHT/.test(e.message) &&
      e.fields.hdu === "WEIGHT",
  );
  const wrongSize = writeFits([
    {},
    { name: "IMAGE", data: image, axes: [7, 5] },
    { name: "WEIGHT", data: weight, axes: [5, 7] },
    { name: "FLAGS", data: new Uint16Array(35), axes: [7, 5] },
  ]);
  await assert.rejects(
    async () => await decodeImage(await openFits(wrongSize, { name: "w.fits" })),
    /WEIGHT is 5x7, IMAGE is 7x5/,
  );
  const wrongType = writeFits([
    {},
    { name: "IMAGE", data: image, axes: [7, 5] },
    { name: "WEIGHT", data: weight, axes: [7, 5] },
    { name: "FLAGS", data: image, axes: [7, 5] },
  ]);
  await assert.rejects(
    async () => await decodeImage(await openFits(wrongType)),
    /FLAGS is not Uint16/,
  );
});

Deno.test("encodeSourceList / decodeSourceList round-trip every column and the apertures", async () => {
  const list = emptySourceList(4, [2.5, 5, 7.5]);
  for (let i = 0; i < 4; i++) {
    list.X[i] = 100.123456789 + i;
    list.Y[i] = 2000.5 - i;
    list.FLUX_PSF[i] = 1e4 * (i + 1);
    list.FLAGS[i] = i;
    list.NPIX[i] = 10 * i;
    for (let a = 0; a < 3; a++) list.FLUX_APER[i * 3 + a] = 100 * i + a;
  }
  list.header.set("THRESH", 5, "detection threshold (sigma)");
  const back = await decodeSourceList(await openFits(encodeSourceList(list)));
  assert.equal(back.count, 4);
  assert.deepEqual(back.apertureRadii, [2.5, 5, 7.5]);
  assert.deepEqual(back.X, list.X, "positions keep float64 precision");
  assert.deepEqual(back.FLUX_PSF, list.FLUX_PSF);
  assert.deepEqual(back.FLAGS, list.FLAGS);
  assert.deepEqual(back.NPIX, list.NPIX);
  assert.deepEqual(back.FLUX_APER, list.FLUX_APER);
  assert.equal(back.header.get("THRESH"), 5);
});

Deno.test("encodeSourceList handles an empty list", async () => {
  const back = await decodeSourceList(await openFits(encodeSourceList(emptySourceList(0, [3]))));
  assert.equal(back.count, 0);
  assert.equal(back.X.length, 0);
});

Deno.test("productKey derives fixed keys and refuses unsafe parts", () => {
  const exposure = { exposureId: "6f1c2a9e-8a51-4c55-9d6b-0a3c7e1d2f40", sectionId: "N4" };
  assert.equal(
    productKey("image", exposure, "ABCDEFGHIJKLMNOPQRST"),
    "image/6f1c2a9e-8a51-4c55-9d6b-0a3c7e1d2f40/N4/ABCDEFGHIJKLMNOPQRST.image.fits",
  );
  assert.equal(
    productKey("psf", { imageId: "abc" }, "P".repeat(20)),
    `psf/image/abc/${"P".repeat(20)}.psf.fits`,
  );
  assert.throws(
    () => productKey("image", { exposureId: "../x", sectionId: "N1" }, "P"),
    /cannot be part/,
  );
});
