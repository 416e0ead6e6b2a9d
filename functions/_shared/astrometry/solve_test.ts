import assert from "node:assert/strict";
import { Rng } from "../sim/random.ts";
import { angularSeparationDeg } from "../sky/angles.ts";
import { makeWcs, type Wcs } from "../wcs/mod.ts";
import { fitSimilarity, matchPatterns } from "./pattern.ts";
import { AstrometryFailure, type RefPoint, solveAstrometry, type SourcePoint } from "./solve.ts";
import { julianYear, positionAtEpoch } from "./epoch.ts";

const W = 512, H = 1024, SCALE = 0.263 / 3600;

/** A TAN-SIP WCS with a mild quadratic distortion, DECam-like orientation. */
function truthWcs(ra: number, dec: number): Wcs {
  return makeWcs({
    crpix: [W / 2 + 0.5, H / 2 + 0.5],
    crval: [ra, dec],
    cd: [[0, -SCALE], [-SCALE, 0]],
    sip: { order: 2, a: [[0, 0, 2e-6], [0, 1e-6], [3e-6]], b: [[0, 0, -1e-6], [2e-6], [1e-6]] },
  });
}

/** The approximate WCS a header would give: offset, rotated and scaled. */
function perturbed(w: Wcs, offArcmin: number, rotDeg: number, scale: number): Wcs {
  const th = (rotDeg * Math.PI) / 180, c = Math.cos(th), s = Math.sin(th);
  const cd = w.cd;
  const rot: [[number, number], [number, number]] = [
    [(c * cd[0][0] - s * cd[1][0]) * scale, (c * cd[0][1] - s * cd[1][1]) * scale],
    [(s * cd[0][0] + c * cd[1][0]) * scale, (s * cd[0][1] + c * cd[1][1]) * scale],
  ];
  const dDec = (offArcmin / 60) * 0.6,
    dRa = (offArcmin / 60) * 0.8 / Math.cos((w.crval[1] * Math.PI) / 180);
  return makeWcs({ crpix: w.crpix, crval: [w.crval[0] + dRa, w.crval[1] + dDec], cd: rot });
}

/** Stars over the image grown by 6', sources detected from them (noisy, incomplete, extras). */
function field(seed: number, wcs: Wcs) {
  const rng = new Rng(seed);
  const refs: RefPoint[] = [];
  const sources: SourcePoint[] = [];
  const pad = (6 * 60) / 0.263;
  const n = Math.round(1500 * ((W + 2 * pad) * (H + 2 * pad)) / (W * H) / 5);
  for (let k = 0; k < n; k++) {
    const x = rng.range(-pad, W + pad), y = rng.range(-pad, H + pad);
    const mag = 14 + 7 * Math.pow(rng.uniform(), 0.35);
    const sky = wcs.pixToSky(x, y);
    if (mag < 20.5) refs.push({ ...sky, mag: mag + rng.normal(0, 0.05) });
    if (x >= 0 && y >= 0 && x < W && y < H && rng.uniform() < 0.9) {
      sources.push({
        x: x + rng.normal(0, 0.03),
        y: y + rng.normal(0, 0.03),
        flux: 10 ** (-0.4 * (mag - 25)) * (1 + rng.normal(0, 0.1)),
      });
    }
  }
  // galaxies and artefacts: sources without a reference star
  for (let k = 0; k < sources.length * 0.2; k++) {
    sources.push({
      x: rng.range(0, W),
      y: rng.range(0, H),
      flux: 10 ** (-0.4 * (rng.range(16, 21) - 25)),
    });
  }
  return { refs, sources };
}

function gridRmsArcsec(a: Wcs, b: Wcs): number {
  let s = 0, n = 0;
  for (let y = 0; y < H; y += 64) {
    for (let x = 0; x < W; x += 64) {
      const p = a.pixToSky(x, y), q = b.pixToSky(x, y);
      s += (angularSeparationDeg(p.ra, p.dec, q.ra, q.dec) * 3600) ** 2;
      n++;
    }
  }
  return Math.sqrt(s / n);
}

Deno.test("fitSimilarity recovers an exact similarity", () => {
  const from = [{ x: 0, y: 0 }, { x: 10, y: 3 }, { x: -4, y: 7 }, { x: 5, y: -9 }];
  const th = 0.3, s = 1.02;
  const to = from.map((p) => ({
    x: s * (Math.cos(th) * p.x - Math.sin(th) * p.y) + 100,
    y: s * (Math.sin(th) * p.x + Math.cos(th) * p.y) - 50,
  }));
  const t = fitSimilarity(from, to);
  assert.ok(Math.abs(Math.hypot(t.a, t.b) - s) < 1e-12);
  assert.ok(Math.abs(Math.atan2(t.b, t.a) - th) < 1e-12);
  assert.ok(Math.abs(t.tx - 100) < 1e-9 && Math.abs(t.ty + 50) < 1e-9);
});

Deno.test("matchPatterns finds a 300 px offset and 2 degree rotation among decoys", () => {
  const rng = new Rng(3);
  const to = Array.from(
    { length: 120 },
    () => ({ x: rng.range(-400, 900), y: rng.range(-400, 1400) }),
  );
  const th = (2 * Math.PI) / 180;
  // from = inverse-mapped subset of `to` that falls on a 512 x 1024 image, plus decoys
  const from = to.map((p) => {
    const x = p.x - 300, y = p.y + 120;
    return { x: Math.cos(th) * x + Math.sin(th) * y, y: -Math.sin(th) * x + Math.cos(th) * y };
  }).filter((p) => p.x >= 0 && p.x < 512 && p.y >= 0 && p.y < 1024);
  for (let k = 0; k < 8; k++) {
    from.splice(2 * k, 0, { x: rng.range(0, 512), y: rng.range(0, 1024) });
  }
  const m = matchPatterns(from, to, { maxSide: 400 });
  assert.ok(m);
  assert.ok(m.pairs.length >= from.length - 8 - 1, `${m.pairs.length} pairs of ${from.length}`);
  assert.ok(Math.abs(Math.atan2(m.transform.b, m.transform.a) - th) < 1e-6);
});

for (const [offset, rot, scale] of [[2, 1, 1.01], [4, -3, 0.99], [0.2, 0, 1]] as const) {
  Deno.test(`solveAstrometry recovers the WCS with the pointing off by ${offset}', rotated ${rot} deg, scale x${scale}`, () => {
    const truth = truthWcs(150.2, 2.1);
    const { refs, sources } = field(11 + offset * 10, truth);
    const guess = perturbed(truth, offset, rot, scale);
    assert.ok(gridRmsArcsec(guess, truth) > offset * 50, "the guess is really off");
    const sol = solveAstrometry(sources, refs, guess, W, H, { order: 3 });
    const rms = gridRmsArcsec(sol.wcs, truth);
    // centroid noise 0.03 px = 0.008": the fit over ~1000 stars is far better
    assert.ok(rms < 0.005, `rms vs truth ${rms}"`);
    assert.ok(sol.nMatched > 150, `${sol.nMatched} matched`);
    assert.ok(
      Math.abs(sol.pattern.rotationDeg + rot) < 0.2 ||
        Math.abs(sol.pattern.rotationDeg - rot) < 0.2,
    );
    assert.ok(sol.meanResidualArcsec < 0.02);
  });
}

Deno.test("solveAstrometry fails with xmatch_failed on a random catalog", () => {
  const truth = truthWcs(150.2, 2.1);
  const { refs } = field(5, truth);
  const rng = new Rng(99);
  const sources = Array.from({ length: 1200 }, () => ({
    x: rng.range(0, W),
    y: rng.range(0, H),
    flux: 10 ** (-0.4 * (rng.range(14, 21) - 25)),
  }));
  assert.throws(
    () => solveAstrometry(sources, refs, perturbed(truth, 2, 1, 1.01), W, H),
    (err: unknown) => err instanceof AstrometryFailure && err.reason === "xmatch_failed",
  );
});

Deno.test("positionAtEpoch moves a star by its proper motion (J2016 -> MJD 60000)", () => {
  const star = {
    id: "1",
    ra: 10,
    dec: 60,
    raErr: 0,
    decErr: 0,
    pmra: 100,
    pmdec: -50,
    pmraErr: 0,
    pmdecErr: 0,
    parallax: NaN,
    parallaxErr: NaN,
    g: 15,
    gErr: 0,
    bp: 15.5,
    bpErr: 0,
    rp: 14.6,
    rpErr: 0,
    epoch: 2016,
  };
  const years = julianYear(60000) - 2016;
  assert.ok(Math.abs(years - (60000 - 57388.5) / 365.25) < 1e-12);
  const p = positionAtEpoch(star, julianYear(60000));
  assert.ok(Math.abs((p.dec - 60) * 3.6e6 + 50 * years) < 1e-6);
  assert.ok(Math.abs((p.ra - 10) * 3.6e6 * Math.cos((60 * Math.PI) / 180) - 100 * years) < 1e-6);
});
