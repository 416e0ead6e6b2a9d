import assert from "node:assert/strict";

function assertAlmostEquals(actual: number, expected: number, tol: number) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} within ${tol}`);
}
import {
  ang2pixNest,
  ang2pixNestBig,
  angularSeparationDeg,
  coneRanges,
  coneRangesBig,
  pix2angNest,
  positionAngleDeg,
} from "./mod.ts";

/** Deterministic uniform generator (LCG) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomSky(r: () => number): [number, number] {
  return [r() * 360, Math.asin(2 * r() - 1) * 180 / Math.PI];
}

Deno.test("angularSeparationDeg matches closed forms", () => {
  assertAlmostEquals(angularSeparationDeg(10, 90, 200, 0), 90, 1e-12);
  assertAlmostEquals(angularSeparationDeg(0, 0, 180, 0), 180, 1e-12);
  assertAlmostEquals(angularSeparationDeg(123, -45, 123, -44), 1, 1e-12);
  // along the equator the separation is the difference in ra
  assertAlmostEquals(angularSeparationDeg(350, 0, 10, 0), 20, 1e-12);
  // 1 mas at dec 60 along ra: dra * cos(dec) to first order
  const mas = 1 / 3.6e6;
  assertAlmostEquals(angularSeparationDeg(10, 60, 10 + 2 * mas, 60), mas, 1e-15);
});

Deno.test("positionAngleDeg is east of north", () => {
  assertAlmostEquals(positionAngleDeg(10, 10, 10, 11), 0, 1e-12);
  assertAlmostEquals(positionAngleDeg(10, 10, 10.1, 10), 90, 0.01);
  assertAlmostEquals(positionAngleDeg(10, 10, 10, 9), 180, 1e-12);
  assertAlmostEquals(positionAngleDeg(10, 10, 9.9, 10), 270, 0.01);
  assert.equal(positionAngleDeg(5, 5, 5, 5), 0);
});

Deno.test("ang2pixNest inverts pix2angNest at every order", () => {
  const r = rng(7);
  for (let order = 0; order <= 24; order++) {
    const npix = 12 * 4 ** order;
    for (let k = 0; k < 200; k++) {
      const p = Math.floor(r() * npix);
      const { ra, dec } = pix2angNest(order, p);
      assert.equal(ang2pixNest(order, ra, dec), p, `order ${order} pixel ${p}`);
    }
  }
  for (let order = 0; order <= 29; order++) {
    for (let k = 0; k < 200; k++) {
      const p = BigInt(Math.floor(r() * 12 * 2 ** 20)) << BigInt(Math.max(0, 2 * order - 20)) |
        BigInt(Math.floor(r() * 2 ** Math.min(20, 2 * order)));
      const q = p % (12n << BigInt(2 * order));
      const { ra, dec } = pix2angNest(order, q);
      assert.equal(ang2pixNestBig(order, ra, dec), q, `order ${order} pixel ${q}`);
    }
  }
});

Deno.test("ang2pixNest agrees with ang2pixNestBig and with the parent pixel", () => {
  const r = rng(11);
  for (let k = 0; k < 2000; k++) {
    const [ra, dec] = randomSky(r);
    const p29 = ang2pixNestBig(29, ra, dec);
    for (const order of [0, 3, 12, 24]) {
      const p = ang2pixNest(order, ra, dec);
      assert.equal(BigInt(p), ang2pixNestBig(order, ra, dec));
      // nested: the parent at a lower order is the index shifted right
      assert.equal(BigInt(p), p29 >> BigInt(2 * (29 - order)));
    }
  }
  assert.throws(() => ang2pixNest(25, 0, 0), RangeError);
  assert.throws(() => ang2pixNest(3, 0, 91), RangeError);
});

Deno.test("pix2angNest centres are within the pixel size of the position", () => {
  const r = rng(3);
  for (let k = 0; k < 500; k++) {
    const [ra, dec] = randomSky(r);
    for (const order of [4, 10, 18]) {
      const c = pix2angNest(order, ang2pixNest(order, ra, dec));
      // pixel size ~ 58.6 deg / nside; the centre is within one size
      assert.ok(angularSeparationDeg(ra, dec, c.ra, c.dec) < 58.6 / 2 ** order);
    }
  }
});

Deno.test("coneRanges contains the pixel of every point of the disc", () => {
  const r = rng(5);
  for (
    const [order, ra0, dec0, rad] of [
      [8, 10, 20, 1],
      [12, 200, 89.5, 0.7],
      [10, 45, -41.8, 0.3],
      [6, 359.9, 0, 5],
    ]
  ) {
    const ranges = coneRanges(order, ra0, dec0, rad);
    const inside = (p: number) => ranges.some(([lo, hi]) => p >= lo && p < hi);
    for (let k = 0; k < 3000; k++) {
      // uniform point in the disc, including its edge
      const d = rad * Math.sqrt(r());
      const pa = r() * 2 * Math.PI;
      const dec = Math.asin(
        Math.sin(dec0 * Math.PI / 180) * Math.cos(d * Math.PI / 180) +
          Math.cos(dec0 * Math.PI / 180) * Math.sin(d * Math.PI / 180) * Math.cos(pa),
      );
      const ra = ra0 * Math.PI / 180 + Math.atan2(
        Math.sin(pa) * Math.sin(d * Math.PI / 180) * Math.cos(dec0 * Math.PI / 180),
        Math.cos(d * Math.PI / 180) - Math.sin(dec0 * Math.PI / 180) * Math.sin(dec),
      );
      const p = ang2pixNest(order, ra * 180 / Math.PI, dec * 180 / Math.PI);
      assert.ok(inside(p), `order ${order}: pixel ${p} of a disc point not covered`);
    }
    // sorted and disjoint
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] > ranges[i - 1][1]);
    // not the whole sky: the covered area is within a few times the disc area
    const covered = ranges.reduce((s, [lo, hi]) => s + hi - lo, 0) * 41252.96 /
      (12 * 4 ** order);
    assert.ok(covered < 4 * Math.PI * rad * rad + 10 * 41252.96 / (12 * 4 ** 6));
  }
});

Deno.test("coneRangesBig agrees with coneRanges shifted to a higher order", () => {
  const a = coneRanges(16, 150, 2.2, 0.05);
  const b = coneRangesBig(29, 150, 2.2, 0.05);
  const p = ang2pixNestBig(29, 150.01, 2.21);
  assert.ok(b.some(([lo, hi]) => p >= lo && p < hi));
  const lo16 = BigInt(a[0][0]) << 26n;
  assert.ok(b[0][0] >= lo16);
});
