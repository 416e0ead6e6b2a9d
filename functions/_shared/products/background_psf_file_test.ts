import assert from "node:assert/strict";
import { background, fitPsf, psfRender, renderStars } from "../../../core-wasm/mod.ts";
import { InputError } from "../errors.ts";
import { readFits } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";
import { decodeBackground, encodeBackground } from "./background_file.ts";
import { decodePsf, encodePsf } from "./psf_file.ts";

Deno.test("encodeBackground/decodeBackground: the mesh and its settings round-trip exactly", async () => {
  const width = 300, height = 200;
  const data = new Float32Array(width * height).map((_, i) =>
    100 + (i % width) * 0.1 + Math.sin(i)
  );
  const b = background({ data, width, height }, { boxWidth: 64, boxHeight: 64 });
  const bytes = encodeBackground({ ...b, filterWidth: 3, filterHeight: 3 });
  const back = await decodeBackground(await readFits(bytes, { name: "bkg.fits" }));
  assert.equal(back.nbx, 5);
  assert.equal(back.nby, 4);
  assert.deepEqual(back.back, b.back);
  assert.deepEqual(back.rms, b.rms);
  assert.equal(back.global, b.global);
  assert.equal(back.globalRms, b.globalRms);
  assert.equal(back.filterWidth, 3);
});

Deno.test("decodeBackground: a file without the mesh is an InputError naming it", async () => {
  const bytes = writeFits([{}]);
  await assert.rejects(
    decodeBackground(await readFits(bytes, { name: "x.fits" })),
    (err: unknown) => err instanceof InputError && /x\.fits: no IMWIDTH/.test(err.message),
  );
});

Deno.test("encodePsf/decodePsf: the model bytes round-trip and render identically", async () => {
  const width = 200, height = 200;
  const xs: number[] = [], ys: number[] = [], fs: number[] = [];
  for (let y = 20; y < 180; y += 30) {
    for (let x = 20; x < 180; x += 30) {
      xs.push(x + 0.3), ys.push(y - 0.2), fs.push(1e4);
    }
  }
  const data = new Float32Array(width * height);
  renderStars({ data, width, height }, xs, ys, fs, { fwhmPoly: [3.2, 0.2, 0.1] });
  const model = fitPsf({ data, width, height }, xs, ys, { fwhm: 3.2, degree: 1, size: 21 });
  const back = await decodePsf(await readFits(encodePsf(model), { name: "psf.fits" }));
  assert.deepEqual(back.data, model.data);
  assert.equal(back.fwhm, model.fwhm);
  assert.equal(back.degree, 1);
  assert.deepEqual(psfRender(back, 50.3, 120.7, 21), psfRender(model, 50.3, 120.7, 21));
});

Deno.test("decodePsf: a basis of the wrong size is an InputError", async () => {
  const width = 100, height = 100;
  const data = new Float32Array(width * height);
  renderStars({ data, width, height }, [30, 70, 30, 70], [30, 30, 70, 70], [1e4, 1e4, 1e4, 1e4], {
    fwhm: 3,
  });
  const model = fitPsf({ data, width, height }, [30, 70, 30, 70], [30, 30, 70, 70], {
    fwhm: 3,
    degree: 0,
    size: 15,
  });
  const good = await readFits(encodePsf(model));
  const h = (await good.hdu(0)).header;
  const bad = writeFits([{ header: h }, {
    name: "PSF_BASIS",
    data: new Float32Array(13 * 13),
    axes: [13, 13, 1],
  }]);
  await assert.rejects(
    decodePsf(await readFits(bad, { name: "bad.fits" })),
    (err: unknown) => err instanceof InputError && /PSF_BASIS is 13x13x1/.test(err.message),
  );
});
