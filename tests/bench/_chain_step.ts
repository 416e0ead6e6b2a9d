/**
 * One step of `deno task bench chain`, run in its own process so that its peak
 * memory is its own: reads its inputs from files the bench wrote, times run()
 * and prints one JSON line {wall_ms, peak_mb, base_mb} (base: the resident
 * memory before the step, with the inputs loaded).
 *
 * Usage: deno run -A tests/bench/_chain_step.ts preprocessing|extraction|astrocal|photocal <dir>
 *
 * @module
 */
import { readFits } from "../../functions/_shared/fits/reader.ts";
import { SimCam } from "../../functions/_shared/instruments/simcam.ts";
import { decodeImage, encodeImage } from "../../functions/_shared/products/image_file.ts";
import { wcsFromHeader } from "../../functions/_shared/wcs/mod.ts";
import { ExtractionParams, extractionStep } from "../../functions/extraction/step.ts";
import { PreprocessingParams, preprocessingStep } from "../../functions/preprocessing/step.ts";
import { readExcerpt } from "../../functions/_shared/catalogs/cache.ts";
import {
  decodeSourceList,
  encodeSourceList,
} from "../../functions/_shared/products/source_list_file.ts";
import { AstrocalParams, astrocalStep } from "../../functions/astrocal/step.ts";
import { PhotocalParams, photocalStep } from "../../functions/photocal/step.ts";
import { peakMemoryMb } from "../figure.ts";

const [step, dir] = Deno.args;
const mb = () => Math.round(Deno.memoryUsage().rss / (1024 * 1024));

if (step === "preprocessing") {
  const raw = await readFits(await Deno.readFile(`${dir}/raw.fits`));
  const hdu = await raw.hdu(1);
  const image = await hdu.readImage();
  const cam = new SimCam({ nCcd: 62, ccdNx: 2048, ccdNy: 4096, seed: 1 });
  const layout = cam.layout(hdu.header);
  const master = async (name: string) =>
    (await (await readFits(await Deno.readFile(`${dir}/${name}.fits`))).image(1))
      .data as Float32Array;
  const inputs = {
    raw: image.data as ArrayLike<number>,
    layout,
    badPixels: cam.badPixels(layout.id, layout.nx, layout.ny),
    exptime: 90,
    bias: await master("bias"),
    dark: null,
    flat: await master("flat"),
    wcs: wcsFromHeader(hdu.header),
    cards: [] as Array<[string, string | number | boolean, string]>,
  };
  const base = mb();
  const t0 = performance.now();
  const out = await preprocessingStep.run(inputs, PreprocessingParams.parse({}), undefined);
  const wall = performance.now() - t0;
  const peak = peakMemoryMb();
  await Deno.writeFile(`${dir}/image.fits`, encodeImage(out.outputs.image));
  console.log(JSON.stringify({ wall_ms: Math.round(wall), peak_mb: peak, base_mb: base }));
} else if (step === "extraction") {
  const image = await decodeImage(await readFits(await Deno.readFile(`${dir}/image.fits`)));
  const base = mb();
  const t0 = performance.now();
  const out = await extractionStep.run({ image }, ExtractionParams.parse({}), undefined);
  const wall = performance.now() - t0;
  await Deno.writeFile(`${dir}/sources.fits`, encodeSourceList(out.outputs.sources));
  console.log(JSON.stringify({
    wall_ms: Math.round(wall),
    peak_mb: peakMemoryMb(),
    base_mb: base,
    sources: out.outputs.sources.count,
    psf_stars: out.outputs.psf.nUsed,
  }));
} else if (step === "astrocal" || step === "photocal") {
  // part B: the header WCS of the image product, its sources, the simulated Gaia excerpt
  const imageFits = await readFits(await Deno.readFile(`${dir}/image.fits`));
  const header = (await imageFits.hdu(0)).header;
  const sources = await decodeSourceList(
    await readFits(await Deno.readFile(`${dir}/sources.fits`)),
  );
  const refStars = await readExcerpt(await Deno.readFile(`${dir}/excerpt.fits`));
  const common = { sources, width: 2048, height: 4096, mjd: 60120.2, expTime: 90, refStars };
  const base = mb();
  const t0 = performance.now();
  let extra: Record<string, number>;
  if (step === "astrocal") {
    const out = await astrocalStep.run(
      { ...common, header },
      AstrocalParams.parse({}),
      undefined,
    );
    await Deno.writeTextFile(`${dir}/wcs.json`, JSON.stringify(out.outputs.cards));
    extra = { matched: out.outputs.nMatched, rms_arcsec: out.outputs.rmsArcsec };
  } else {
    const wcs = JSON.parse(await Deno.readTextFile(`${dir}/wcs.json`));
    const cam = new SimCam({ nCcd: 62, ccdNx: 2048, ccdNy: 4096, seed: 1 });
    const out = await photocalStep.run(
      { ...common, wcs, bestAperture: null, band: "r", instrument: cam },
      PhotocalParams.parse({}),
      undefined,
    );
    extra = { zp: out.outputs.zp, stars: out.outputs.nStars };
  }
  const wall = performance.now() - t0;
  console.log(
    JSON.stringify({ wall_ms: Math.round(wall), peak_mb: peakMemoryMb(), base_mb: base, ...extra }),
  );
} else {
  console.error("usage: _chain_step.ts preprocessing|extraction|astrocal|photocal <dir>");
  Deno.exit(2);
}
