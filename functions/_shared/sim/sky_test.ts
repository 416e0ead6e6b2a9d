import assert from "node:assert/strict";
import { ang2pixNest, angularSeparationDeg } from "../sky/mod.ts";
import {
  gaiaGminusRp,
  MJD_J2016,
  moverPositionAt,
  SimSky,
  starPositionAt,
  transientMag,
  variableOffset,
} from "./sky.ts";

function close(a: number, b: number, tol: number, what = ""): void {
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b} within ${tol}`);
}

Deno.test("SimSky.tile: the same tile is the same whatever was generated before", () => {
  const a = new SimSky({ seed: 7 });
  const b = new SimSky({ seed: 7 });
  b.tile(1000); // a different history
  const ta = a.tile(123456), tb = b.tile(123456);
  assert.ok(ta.stars.length > 1000);
  assert.deepEqual(ta, tb);
  const c = new SimSky({ seed: 8 }).tile(123456);
  assert.notEqual(c.stars[0].ra, ta.stars[0].ra);
});

Deno.test("SimSky.tile: every source lies inside its tile; star count matches the density", () => {
  const sky = new SimSky({ seed: 3, starsPerDeg2: 50000 });
  const t = sky.tile(400000);
  for (const s of t.stars) assert.equal(ang2pixNest(8, s.ra, s.dec), 400000);
  for (const g of t.galaxies) assert.equal(ang2pixNest(8, g.ra, g.dec), 400000);
  const expected = 50000 * sky.tileAreaDeg2;
  close(t.stars.length, expected, 5 * Math.sqrt(expected), "stars");
});

Deno.test("SimSky: star counts rise 0.3 dex per magnitude; galaxies 0.4", () => {
  const sky = new SimSky({ seed: 11, starsPerDeg2: 30000, galaxiesPerDeg2: 30000 });
  const stars = sky.starsInCone(150, 2, 0.6);
  const gals = sky.galaxiesInCone(150, 2, 0.6);
  // least-squares slope of log10 counts per magnitude bin over 16..24 (stars), 18..24 (galaxies)
  const slope = (mags: number[], lo: number, hi: number) => {
    const xs: number[] = [], ys: number[] = [];
    for (let m = lo; m < hi; m++) {
      const n = mags.filter((v) => v >= m && v < m + 1).length;
      xs.push(m + 0.5);
      ys.push(Math.log10(n));
    }
    const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
    let num = 0, den = 0;
    xs.forEach((x, i) => {
      num += (x - mx) * (ys[i] - my);
      den += (x - mx) ** 2;
    });
    return num / den;
  };
  close(slope(stars.map((s) => s.g), 16, 24), 0.3, 0.02, "star slope");
  close(slope(gals.map((g) => g.mag.r), 18, 24), 0.4, 0.02, "galaxy slope");
  // the cone holds what the density says
  const areaDeg2 = 2 * Math.PI * (1 - Math.cos((0.6 * Math.PI) / 180)) * (180 / Math.PI) ** 2;
  close(stars.length, 30000 * areaDeg2, 5 * Math.sqrt(30000 * areaDeg2), "cone count");
  for (const s of stars.slice(0, 200)) assert.ok(angularSeparationDeg(150, 2, s.ra, s.dec) <= 0.6);
});

Deno.test("SimSky.gaiaCone: Gaia colours, errors consistent with the truth, magnitude limit", () => {
  const sky = new SimSky({ seed: 5 });
  const stars = sky.starsInCone(30, -20, 0.3);
  const byId = new Map(stars.map((s) => [`sim${s.id}`, s]));
  const rows = sky.gaiaCone(30, -20, 0.3);
  assert.ok(rows.length > 500);
  assert.equal(rows.length, stars.filter((s) => s.g <= 21).length);
  let chiG = 0, chiDec = 0, chiPm = 0;
  for (const r of rows) {
    const s = byId.get(r.id)!;
    close(s.g - s.rp, gaiaGminusRp(s.bp - s.rp), 1e-9);
    chiG += ((r.g - s.g) / r.gErr) ** 2;
    chiDec += ((r.dec - s.dec) * 3.6e6 / r.decErr) ** 2;
    chiPm += ((r.pmra - s.pmra) / r.pmraErr) ** 2;
    assert.ok(s.parallax > 0);
  }
  const n = rows.length, tol = 5 * Math.sqrt(2 / n);
  close(chiG / n, 1, tol, "chi2 G");
  close(chiDec / n, 1, tol, "chi2 dec");
  close(chiPm / n, 1, tol, "chi2 pmra");
  // a sub-query returns the same rows for the same stars
  const again = sky.gaiaCone(30, -20, 0.1);
  const first = new Map(rows.map((r) => [r.id, r]));
  for (const r of again) assert.deepEqual(r, first.get(r.id));
  const rect = sky.gaiaRect({ minRa: 29.9, maxRa: 30.1, minDec: -20.1, maxDec: -19.9 });
  assert.ok(rect.length > 0);
  for (const r of rect) assert.ok(r.ra >= 29.9 && r.ra <= 30.1 && r.dec >= -20.1 && r.dec <= -19.9);
});

Deno.test("starPositionAt / variableOffset: proper motion over 10 years; light curve bounds", () => {
  const star = {
    id: 1,
    ra: 10,
    dec: 60,
    pmra: 100,
    pmdec: -50,
    parallax: 1,
    g: 15,
    bp: 15.5,
    rp: 14.5,
    variable: { amplitude: 0.4, period: 2, phase: 0.25 },
  };
  const p = starPositionAt(star, MJD_J2016 + 3652.5);
  close((p.dec - 60) * 3.6e6, -500, 1e-6);
  close((p.ra - 10) * 3.6e6 * Math.cos((60 * Math.PI) / 180), 1000, 1e-6);
  close(variableOffset(star, MJD_J2016), 0.2, 1e-12);
  close(variableOffset(star, MJD_J2016 + 1), -0.2, 1e-9);
});

Deno.test("SimSky transients: light curve peaks at mjdPeak; hosted ones sit on their galaxy", () => {
  const sky = new SimSky({ seed: 2, transientsPerDeg2: 2000, transientHostFraction: 0.5 });
  const trs = sky.transientsInCone(200, 10, 0.3);
  assert.ok(trs.length > 50);
  const gals = new Map(sky.galaxiesInCone(200, 10, 0.35).map((g) => [g.id, g]));
  let hosted = 0;
  for (const t of trs) {
    close(transientMag(t, "r", t.mjdPeak), t.peakMag.r, 1e-12);
    assert.ok(transientMag(t, "r", t.mjdPeak + 10) > t.peakMag.r);
    assert.ok(transientMag(t, "r", t.mjdPeak - t.riseDays) > t.peakMag.r);
    if (t.hostId !== null) {
      hosted++;
      const g = gals.get(t.hostId)!;
      assert.ok(angularSeparationDeg(g.ra, g.dec, t.ra, t.dec) * 3600 <= 1.5 * g.reArcsec + 1e-6);
    }
  }
  close(hosted / trs.length, 0.5, 0.2, "host fraction");
});

Deno.test("SimSky.moversInCone: objects move at their rate and are found where they are", () => {
  const sky = new SimSky({ seed: 4, movingPerDeg2: 200 });
  const mjd = 60010.3;
  const found = sky.moversInCone(80, 0, 0.5, mjd);
  assert.ok(found.length > 10);
  for (const m of found) {
    const p = moverPositionAt(m, mjd + 0.01);
    const speed = Math.hypot(m.raRate, m.decRate);
    close(angularSeparationDeg(m.raNow, m.decNow, p.ra, p.dec), speed * 0.01, 1e-6);
  }
  // the same night, the same objects
  const again = sky.moversInCone(80, 0, 0.5, mjd);
  assert.deepEqual(again, found);
});

Deno.test("SimSky: cones across RA = 0 and at the pole; wrapping rectangles", () => {
  const sky = new SimSky({ seed: 6, starsPerDeg2: 20000 });
  const near0 = sky.starsInCone(0.05, 1, 0.2);
  assert.ok(near0.some((s) => s.ra > 359.8) && near0.some((s) => s.ra < 0.2));
  for (const s of near0) assert.ok(angularSeparationDeg(0.05, 1, s.ra, s.dec) <= 0.2);
  const area = 2 * Math.PI * (1 - Math.cos((0.2 * Math.PI) / 180)) * (180 / Math.PI) ** 2;
  close(near0.length, 20000 * area, 5 * Math.sqrt(20000 * area), "count across RA 0");
  const pole = sky.starsInCone(123, 89.95, 0.2);
  close(pole.length, 20000 * area, 5 * Math.sqrt(20000 * area), "count at the pole");
  const wrap = sky.gaiaRect({ minRa: 359.9, maxRa: 0.1, minDec: 0.9, maxDec: 1.1 });
  assert.ok(wrap.length > 0);
  for (const r of wrap) assert.ok((r.ra >= 359.9 || r.ra <= 0.1) && r.dec >= 0.9 && r.dec <= 1.1);
  const both = sky.gaiaRect({ minRa: 359.9, maxRa: 360, minDec: 0.9, maxDec: 1.1 }).length +
    sky.gaiaRect({ minRa: 0, maxRa: 0.1, minDec: 0.9, maxDec: 1.1 }).length;
  assert.equal(wrap.length, both);
});
