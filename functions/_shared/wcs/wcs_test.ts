import assert from "node:assert/strict";
import { loadHeaderFixture } from "../../../tests/fixtures/fits_headers.ts";
import { angularSeparationDeg } from "../sky/mod.ts";
import {
  fitTanSip,
  makeWcs,
  type Match,
  pixelScaleArcsec,
  wcsCorners,
  WcsError,
  wcsFromHeader,
  wcsToCards,
} from "./mod.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
}

Deno.test("makeWcs TAN: CRPIX maps to CRVAL and one pixel to the pixel scale", () => {
  const scale = 0.263 / 3600;
  const w = makeWcs({ crpix: [1024.5, 2048.5], crval: [10, -30], cd: [[-scale, 0], [0, scale]] });
  const c = w.pixToSky(1023.5, 2047.5); // 0-based = CRPIX - 1
  assert.ok(Math.abs(c.ra - 10) < 1e-12 && Math.abs(c.dec + 30) < 1e-12);
  const n = w.pixToSky(1023.5, 2048.5);
  assert.ok(Math.abs(angularSeparationDeg(10, -30, n.ra, n.dec) * 3600 - 0.263) < 1e-9);
  assert.ok(n.dec > -30); // +y is north
  const e = w.pixToSky(1022.5, 2047.5);
  assert.ok(e.ra > 10); // -x is east with CD1_1 < 0
  assert.ok(Math.abs(pixelScaleArcsec(w) - 0.263) < 1e-12);
  // far from the tangent point the gnomonic projection is exact both ways
  const p = w.skyToPix(10.5, -29.6);
  const s = w.pixToSky(p.x, p.y);
  assert.ok(angularSeparationDeg(s.ra, s.dec, 10.5, -29.6) < 1e-12);
  assert.ok(Number.isNaN(w.skyToPix(190, 30).x)); // behind the tangent plane
});

Deno.test("skyToPix inverts pixToSky for SIP and TPV fixtures", () => {
  for (const name of ["sip_header", "decam_tpv_header"] as const) {
    const w = wcsFromHeader(loadHeaderFixture(name));
    const r = rng(3);
    const xs = Float64Array.from({ length: 500 }, () => r() * 2047);
    const ys = Float64Array.from({ length: 500 }, () => r() * 4095);
    const { ra, dec } = w.pixToSkyMany(xs, ys);
    const { x, y } = w.skyToPixMany(ra, dec);
    for (let i = 0; i < xs.length; i++) {
      assert.ok(Math.abs(x[i] - xs[i]) < 1e-7 && Math.abs(y[i] - ys[i]) < 1e-7, `${name} ${i}`);
    }
  }
});

Deno.test("wcsToCards and wcsFromHeader round-trip TAN, SIP and TPV", () => {
  for (const name of ["sip_header", "decam_tpv_header"] as const) {
    const w = wcsFromHeader(loadHeaderFixture(name));
    const cards = Object.fromEntries(wcsToCards(w).map(([k, v]) => [k, v]));
    const back = wcsFromHeader(cards);
    assert.equal(back.type, w.type);
    for (const [x, y] of [[0, 0], [2047, 0], [0, 4095], [1234.5, 777.25]]) {
      const a = w.pixToSky(x, y), b = back.pixToSky(x, y);
      assert.ok(angularSeparationDeg(a.ra, a.dec, b.ra, b.dec) < 1e-12);
    }
  }
  // CDELT + CROTA2 and PC forms
  const rot = makeWcs({
    crpix: [10, 20],
    crval: [200, 45],
    cd: [[-1e-4 * Math.cos(0.3), -1e-4 * Math.sin(0.3)], [
      -1e-4 * Math.sin(0.3),
      1e-4 * Math.cos(0.3),
    ]],
  });
  const fromCrota = wcsFromHeader({
    CTYPE1: "RA---TAN",
    CTYPE2: "DEC--TAN",
    CRPIX1: 10,
    CRPIX2: 20,
    CRVAL1: 200,
    CRVAL2: 45,
    CDELT1: -1e-4,
    CDELT2: 1e-4,
    CROTA2: (0.3 * 180) / Math.PI,
  });
  const a = rot.pixToSky(100, 50), b = fromCrota.pixToSky(100, 50);
  assert.ok(angularSeparationDeg(a.ra, a.dec, b.ra, b.dec) < 1e-12);
  assert.throws(() => wcsFromHeader({ CTYPE1: "RA---ZEA", CTYPE2: "DEC--ZEA" }), WcsError);
  assert.throws(() => wcsFromHeader({ CTYPE1: "RA---TAN", CTYPE2: "DEC--TPV" }), WcsError);
});

Deno.test("fitTanSip recovers a SIP distortion and clips outliers", () => {
  const truth = wcsFromHeader(loadHeaderFixture("sip_header"));
  const r = rng(17);
  const matches: Match[] = [];
  const outlier: boolean[] = [];
  const noise = 0.02 / 3600; // 20 mas per axis
  for (let i = 0; i < 1500; i++) {
    const x = r() * 2047, y = r() * 4095;
    const s = truth.pixToSky(x, y);
    const bad = i % 25 === 0;
    const k = bad ? 100 : 1; // outliers: 2" per axis
    const dec = s.dec + gauss(r) * noise * k;
    const ra = s.ra + (gauss(r) * noise * k) / Math.cos((s.dec * Math.PI) / 180);
    matches.push({ x, y, ra, dec });
    outlier.push(bad);
  }
  const fit = fitTanSip(matches, { order: 3, clip: 3 });
  assert.equal(fit.wcs.type, "TAN-SIP");
  // every outlier is clipped; few good matches are
  outlier.forEach((b, i) => b && assert.equal(fit.used[i], false));
  assert.ok(fit.nUsed > 1400);
  // rms of 2-D residuals ~ sqrt(2) x 20 mas
  assert.ok(fit.rmsArcsec > 0.02 && fit.rmsArcsec < 0.04, `rms ${fit.rmsArcsec}`);
  // the fitted WCS agrees with the truth over the chip to a few mas
  let worst = 0;
  for (let x = 0; x <= 2047; x += 128) {
    for (let y = 0; y <= 4095; y += 128) {
      const a = truth.pixToSky(x, y), b = fit.wcs.pixToSky(x, y);
      worst = Math.max(worst, angularSeparationDeg(a.ra, a.dec, b.ra, b.dec) * 3600);
    }
  }
  assert.ok(worst < 0.01, `worst ${worst}"`);
  // AP/BP give a close starting point for the inverse
  const s = fit.wcs.pixToSky(100, 3000);
  const p = fit.wcs.skyToPix(s.ra, s.dec);
  assert.ok(Math.abs(p.x - 100) < 1e-7 && Math.abs(p.y - 3000) < 1e-7);
  // order 1 is a plain TAN, worse on this distorted field
  const lin = fitTanSip(matches, { order: 1, clip: 0 });
  assert.equal(lin.wcs.type, "TAN");
  assert.ok(lin.rmsArcsec > fit.rmsArcsec * 5);
});

Deno.test("wcsCorners gives the sky positions of the outer pixel edges", () => {
  const scale = 1 / 3600;
  const w = makeWcs({ crpix: [50.5, 25.5], crval: [0, 0], cd: [[-scale, 0], [0, scale]] });
  const c = wcsCorners(w, 100, 50);
  // 100 x 50 pixels of 1" centred on (0, 0): corners at (+-50", +-25")
  assert.ok(Math.abs(c[0].ra - 50 / 3600) < 1e-9 && Math.abs(c[0].dec + 25 / 3600) < 1e-9);
  assert.ok(Math.abs(c[2].ra - (360 - 50 / 3600)) < 1e-9 && Math.abs(c[2].dec - 25 / 3600) < 1e-9);
});

Deno.test("skyToPix returns NaN where the TPV polynomial cannot be inverted", () => {
  const w = wcsFromHeader(loadHeaderFixture("decam_tpv_header"));
  const c = w.pixToSky(1000, 2000);
  const p = w.skyToPix(c.ra, c.dec);
  assert.ok(Math.abs(p.x - 1000) < 1e-7);
  // 40 degrees away the cubic terms fold the plane: no pixel maps there
  const far = w.skyToPix(c.ra + 40, c.dec + 30);
  assert.ok(
    Number.isNaN(far.x) || Math.hypot(...(() => {
          const s = w.pixToSky(far.x, far.y);
          return [s.ra - (c.ra + 40), s.dec - (c.dec + 30)];
        })()) < 1e-9,
  );
});
