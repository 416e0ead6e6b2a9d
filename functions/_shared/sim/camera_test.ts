import assert from "node:assert/strict";
import { readFits } from "../fits/reader.ts";
import { SimCam } from "../instruments/simcam.ts";
import { ccdFwhmPoly, ccdWcs, evalFwhm, renderExposure } from "./camera.ts";
import { exposureFits, truthFits } from "./output.ts";
import { SimSky } from "./sky.ts";
import { tpvPixToSky, tpvSkyToPix } from "./tpv.ts";

const cam = new SimCam({ nCcd: 2, ccdNx: 256, ccdNy: 512 });
const sky = new SimSky({ seed: 3 });
const spec = { ra: 150.1, dec: 2.2, mjd: 60010.2, band: "r" as const, expnum: 7 };

Deno.test("tpvSkyToPix inverts tpvPixToSky across the focal plane", () => {
  const big = new SimCam({ nCcd: 62 });
  for (const id of ["N31", "S29", "N4"]) {
    const w = ccdWcs(big, big.ccd(id), 10, -60, 2e-4);
    for (const [x, y] of [[0, 0], [2047, 4095], [1000.3, 17.8]]) {
      const s = tpvPixToSky(w, x, y);
      const p = tpvSkyToPix(w, s.ra, s.dec);
      assert.ok(Math.hypot(p.x - x, p.y - y) < 1e-6, `${id} ${x},${y} -> ${p.x},${p.y}`);
    }
  }
});

Deno.test("ccdFwhmPoly: the polynomial equals the focal-plane FWHM law at every pixel", () => {
  const big = new SimCam({ nCcd: 62 });
  const ccd = big.ccd("S25");
  const poly = ccdFwhmPoly(big, ccd, 4, 0.05, 0.02, -0.01);
  const rm = 3.6 * 4096;
  for (const [x, y] of [[0, 0], [2047, 4095], [500, 3000]]) {
    const X = ccd.centre.x - (y - 4095 / 2), Y = ccd.centre.y - (x - 2047 / 2);
    const want = 4 * (1 + 0.05 * (X * X + Y * Y) / (rm * rm) + 0.02 * X / rm - 0.01 * Y / rm);
    assert.ok(Math.abs(evalFwhm(poly, 2048, 4096, x, y) - want) < 1e-9);
  }
});

Deno.test("renderExposure: deterministic; truth on the CCD; overscan at the bias level", () => {
  const a = renderExposure(cam, sky, spec);
  const b = renderExposure(cam, sky, spec);
  assert.equal(a.ccds.length, 2);
  assert.deepEqual(a.ccds[0].raw, b.ccds[0].raw);
  const c = a.ccds[0];
  assert.equal(c.raw.length, c.rawNx * c.rawNy);
  assert.ok(c.truth.length > 20);
  for (const t of c.truth) {
    assert.ok(t.x >= -0.5 && t.x < 255.5 && t.y >= -0.5 && t.y < 511.5);
    assert.ok(Math.abs(t.mag - (c.zeropointE - 2.5 * Math.log10(t.fluxE))) < 1e-9);
    const p = tpvSkyToPix(c.wcs, t.ra, t.dec);
    assert.ok(Math.hypot(p.x - t.x, p.y - t.y) < 1e-6);
  }
  // overscan of amplifier B (raw columns 6..55): the bias level of this exposure
  const geo = cam.rawGeometry()[1];
  let s = 0, n = 0;
  for (let y = geo.bias.y0; y < geo.bias.y1; y++) {
    for (let x = geo.bias.x0; x < geo.bias.x1; x++) {
      s += c.raw[y * c.rawNx + x] - c.biasRows[1][y];
      n++;
    }
  }
  assert.ok(Math.abs(s / n - c.biasLevels[1]) < 0.2, `overscan ${s / n} vs ${c.biasLevels[1]}`);
  // another exposure number: other noise
  const other = renderExposure(cam, sky, { ...spec, expnum: 8 });
  assert.notDeepEqual(other.ccds[0].raw, c.raw);
});

Deno.test("exposureFits/truthFits: read back by the FITS reader, DECam keywords in place", async () => {
  const exp = renderExposure(cam, sky, spec);
  for (const compress of [false, true]) {
    const f = await readFits(exposureFits(exp, compress));
    const hdu = await f.hdu(exp.ccds[1].id);
    const img = await hdu.readImage();
    assert.deepEqual(img.axes, [exp.ccds[1].rawNx, exp.ccds[1].rawNy]);
    assert.deepEqual(Array.from(img.data as Uint16Array), Array.from(exp.ccds[1].raw));
    const info = cam.exposureInfo((await f.hdu(0)).header, hdu.header);
    assert.equal(info.band, "r");
    assert.ok(Math.abs(info.ra - 150.1) < 1e-5 && Math.abs(info.dec - 2.2) < 1e-4);
    assert.equal(info.type, "science");
    assert.equal(cam.layout(hdu.header).amps[0].gain, cam.ccd(exp.ccds[1].id).amps[0].gain);
  }
  const t = await readFits(truthFits(exp));
  const table = await t.table(`TRUTH_${exp.ccds[0].id}`);
  assert.equal(table.nrows, exp.ccds[0].truth.length);
});

Deno.test("renderExposure: bias frames carry no sky, flats the flat level", () => {
  const bias = renderExposure(cam, sky, { ...spec, type: "bias", cosmics: false }).ccds[0];
  const flat = renderExposure(cam, sky, { ...spec, type: "flat", flatLevel: 10000 }).ccds[0];
  const g = cam.rawGeometry()[0], amp = cam.ccd(bias.id).amps[0];
  let sb = 0, sf = 0, n = 0;
  for (let y = g.data.y0 + 10; y < g.data.y1 - 10; y++) {
    for (let x = g.data.x0 + 40; x < g.data.x1 - 10; x++) {
      sb += bias.raw[y * bias.rawNx + x];
      sf += flat.raw[y * flat.rawNx + x] - flat.biasLevels[0] - flat.biasRows[0][y];
      n++;
    }
  }
  assert.ok(Math.abs(sb / n - bias.biasLevels[0]) < 3);
  // the flat's large-scale shape is within a few per cent of 1
  const level = (sf / n) * amp.gain;
  assert.ok(Math.abs(level / 10000 - 1) < 0.05, `flat level ${level}`);
});

Deno.test("tpvCards: the wcs module reads the header to the same mapping the renderer used", async () => {
  const { wcsFromHeader } = await import("../wcs/mod.ts");
  const { Header } = await import("../fits/header.ts");
  const { tpvCards } = await import("./tpv.ts");
  const big = new SimCam({ nCcd: 62 });
  for (const id of ["N31", "S25", "N4"]) {
    const w = ccdWcs(big, big.ccd(id), 200, 35);
    const theirs = wcsFromHeader(Header.from(tpvCards(w)));
    for (const [x, y] of [[0, 0], [2047, 4095], [1000.3, 17.8]]) {
      const a = tpvPixToSky(w, x, y), b = theirs.pixToSky(x, y);
      const sep = Math.hypot((a.ra - b.ra) * Math.cos((a.dec * Math.PI) / 180), a.dec - b.dec);
      assert.ok(sep * 3.6e6 < 0.01, `${id} (${x}, ${y}): ${sep * 3.6e6} mas apart`);
    }
  }
});

Deno.test("renderExposure: saturated stars bleed along their column; cosmic rays add charge", () => {
  const bright = new SimSky({ seed: 5, starBrightMag: 9, starFaintMag: 14, starsPerDeg2: 20000 });
  const c = renderExposure(cam, bright, { ...spec, cosmics: false }).ccds[0];
  const ccd = cam.ccd(c.id);
  const geo = cam.rawGeometry();
  let trails = 0;
  for (const t of c.truth) {
    if (t.kind !== "star" || t.fluxE < 5 * ccd.amps[0].fullWell * 20) continue;
    const i = t.x >= 128 ? 0 : 1, amp = ccd.amps[i], g = geo[i];
    const rx = Math.round(t.x) - g.trim.x0 + g.data.x0;
    let run = 0;
    for (let y = g.data.y0; y < g.data.y1; y++) {
      if (c.raw[y * c.rawNx + rx] >= amp.saturation - 5 * amp.readNoise / amp.gain) run++;
    }
    if (run >= 5) trails++;
  }
  assert.ok(trails > 0, "no bleed trail found");
  // cosmic rays: the same exposure with and without them differs by positive tracks only
  const withCr = renderExposure(cam, sky, { ...spec, exptime: 300 }).ccds[0];
  const noCr = renderExposure(cam, sky, { ...spec, exptime: 300, cosmics: false }).ccds[0];
  let more = 0, less = 0;
  for (let i = 0; i < withCr.raw.length; i++) {
    const d = withCr.raw[i] - noCr.raw[i];
    if (d > 20) more++;
    if (d < -20) less++;
  }
  assert.ok(
    more > 10 && less === 0 && withCr.biasLevels[0] === noCr.biasLevels[0],
    `cosmic-ray pixels ${more}, negative ${less}`,
  );
});

Deno.test("ccdWcs: the 62 CCDs of the full camera tile the focal plane without overlapping", () => {
  const big = new SimCam({ nCcd: 62 });
  const ids = big.sectionIds();
  assert.equal(new Set(ids).size, 62);
  const wcss = ids.map((id) => ccdWcs(big, big.ccd(id), 30, -40));
  let covered = 0;
  for (let k = 0; k < 3000; k++) {
    // points over a 2.4-degree square around the pointing
    const dec = -40 + (((k * 7919) % 3000) / 3000 - 0.5) * 2.4;
    const ra = 30 + ((((k * 104729) % 2999) / 2999 - 0.5) * 2.4) / Math.cos((40 * Math.PI) / 180);
    let on = 0;
    for (const w of wcss) {
      const p = tpvSkyToPix(w, ra, dec);
      if (p.x >= -0.5 && p.x < 2047.5 && p.y >= -0.5 && p.y < 4095.5) on++;
    }
    assert.ok(on <= 1, `a point on ${on} CCDs`);
    covered += on;
  }
  // 62 CCDs of 0.15 x 0.30 deg cover about 2.7 of the 5.76 square degrees sampled
  const frac = covered / 3000;
  assert.ok(frac > 0.4 && frac < 0.55, `covered fraction ${frac}`);
});
