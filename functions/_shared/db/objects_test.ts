import assert from "node:assert/strict";
import { angularSeparationDeg } from "../sky/angles.ts";
import { ang2pixNest } from "../sky/healpix.ts";
import {
  associateOrCreate,
  lockPixels,
  OBJECT_LOCK_ORDER,
  objectNameCounter,
  objectNameSuffix,
  yearOfMjd,
} from "./objects.ts";
import { openMigratedPglite } from "./testing.ts";

Deno.test("objectNameSuffix counts a..z, aa..zz, aaa.. and objectNameCounter inverts it", () => {
  assert.equal(objectNameSuffix(1), "a");
  assert.equal(objectNameSuffix(26), "z");
  assert.equal(objectNameSuffix(27), "aa");
  assert.equal(objectNameSuffix(28), "ab");
  assert.equal(objectNameSuffix(702), "zz");
  assert.equal(objectNameSuffix(703), "aaa");
  assert.equal(objectNameSuffix(18278), "zzz");
  assert.equal(objectNameSuffix(18279), "aaaa");
  for (const n of [1, 25, 26, 27, 700, 703, 18278, 18279, 123456]) {
    assert.equal(objectNameCounter(objectNameSuffix(n)), n);
  }
  assert.ok(Number.isNaN(objectNameCounter("a1")));
  assert.throws(() => objectNameSuffix(0), RangeError);
});

Deno.test("yearOfMjd gives the UTC year", () => {
  assert.equal(yearOfMjd(51544), 2000); // 2000-01-01
  assert.equal(yearOfMjd(51543.99), 1999);
  assert.equal(yearOfMjd(61041), 2026); // 2026-01-01
  assert.equal(yearOfMjd(61040.5), 2025);
});

Deno.test("lockPixels covers the detection's pixel and every pixel of the cone, sorted", () => {
  const ra = 150.1, dec = 2.2, r = 10 / 3600;
  const pixels = lockPixels(ra, dec, r);
  assert.deepEqual(pixels, [...pixels].sort((a, b) => a - b));
  // every point of the cone (sampled) falls in a locked pixel
  for (let k = 0; k < 64; k++) {
    const a = (2 * Math.PI * k) / 64;
    for (const f of [0.3, 0.7, 0.999]) {
      const pra = ra + (f * r * Math.cos(a)) / Math.cos((dec * Math.PI) / 180);
      const pdec = dec + f * r * Math.sin(a);
      assert.ok(angularSeparationDeg(ra, dec, pra, pdec) <= r * 1.0001);
      assert.ok(pixels.includes(ang2pixNest(OBJECT_LOCK_ORDER, pra, pdec)));
    }
  }
  assert.ok(pixels.length <= 9, `${pixels.length} pixels for a 10" cone`);
});

Deno.test("associateOrCreate creates, associates within the radius, and creates again beyond it", async () => {
  const db = await openMigratedPglite();
  try {
    const mjd = 61100.2; // 2026
    const a = await associateOrCreate(db, { ra: 150.1, dec: 2.2, mjd, radiusArcsec: 2 });
    assert.equal(a.created, true);
    assert.equal(a.name, "2026a");
    // 1" away: the same object
    const b = await associateOrCreate(db, {
      ra: 150.1,
      dec: 2.2 + 1 / 3600,
      mjd: mjd + 3,
      radiusArcsec: 2,
    });
    assert.equal(b.created, false);
    assert.equal(b.id, a.id);
    assert.ok(Math.abs(b.separationArcsec - 1) < 1e-6, `${b.separationArcsec}`);
    // 3" away with a 2" radius: a new object, the next name
    const c = await associateOrCreate(db, {
      ra: 150.1,
      dec: 2.2 - 3 / 3600,
      mjd,
      radiusArcsec: 2,
    });
    assert.equal(c.created, true);
    assert.equal(c.name, "2026b");
    // between both, nearer c: associates with c
    const d = await associateOrCreate(db, {
      ra: 150.1,
      dec: 2.2 - 1.8 / 3600,
      mjd,
      radiusArcsec: 2,
    });
    assert.equal(d.id, c.id);
    // fakes do not associate with real objects
    const f = await associateOrCreate(db, {
      ra: 150.1,
      dec: 2.2,
      mjd,
      radiusArcsec: 2,
      isFake: true,
    });
    assert.equal(f.created, true);
    assert.notEqual(f.id, a.id);
    // another year restarts the counter
    const g = await associateOrCreate(db, { ra: 10, dec: -30, mjd: 60000, radiusArcsec: 2 });
    assert.equal(g.name, "2023a");
    const rows = await db.query<{ name: string; healpix: string; is_fake: boolean }>(
      "SELECT name, healpix::text, is_fake FROM objects ORDER BY name",
    );
    assert.deepEqual(rows.map((r) => r.name), ["2023a", "2026a", "2026b", "2026c"]);
    assert.equal(Number(rows[1].healpix), ang2pixNest(12, 150.1, 2.2));
  } finally {
    await db.close();
  }
});

Deno.test("associateOrCreate continues the counter past z and after existing names", async () => {
  const db = await openMigratedPglite();
  try {
    for (let n = 1; n <= 27; n++) {
      await db.query(
        "INSERT INTO objects (name, ra, dec, healpix) VALUES ($1, 0, 0, 0)",
        [`2026${objectNameSuffix(n)}`],
      );
    }
    // a name of another scheme in the same year range is ignored
    await db.query("INSERT INTO objects (name, ra, dec, healpix) VALUES ('2026_x9', 0, 0, 0)");
    const o = await associateOrCreate(db, { ra: 200, dec: 40, mjd: 61200, radiusArcsec: 2 });
    assert.equal(o.name, "2026ab");
  } finally {
    await db.close();
  }
});

Deno.test("associateOrCreate on a caller's transaction: rolled back with it", async () => {
  const db = await openMigratedPglite();
  try {
    await assert.rejects(() =>
      db.transaction(async (tx) => {
        const o = await associateOrCreate(tx, { ra: 1, dec: 1, mjd: 61100, radiusArcsec: 2 });
        assert.equal(o.created, true);
        throw new Error("abort");
      }), /abort/);
    assert.equal((await db.query("SELECT 1 FROM objects")).length, 0);
  } finally {
    await db.close();
  }
});

Deno.test("associateOrCreate refuses bad radii and positions", async () => {
  const db = await openMigratedPglite();
  try {
    await assert.rejects(
      () => associateOrCreate(db, { ra: 1, dec: 1, mjd: 61100, radiusArcsec: 0 }),
      RangeError,
    );
    await assert.rejects(
      () => associateOrCreate(db, { ra: 1, dec: 1, mjd: 61100, radiusArcsec: 3600 }),
      RangeError,
    );
    await assert.rejects(
      () => associateOrCreate(db, { ra: 1, dec: 91, mjd: 61100, radiusArcsec: 2 }),
      RangeError,
    );
  } finally {
    await db.close();
  }
});

Deno.test("associateOrCreate: concurrent calls at one place on PGlite create one object", async () => {
  const db = await openMigratedPglite();
  try {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        associateOrCreate(db, {
          ra: 33.3,
          dec: -5 + (i % 3) * 0.3 / 3600,
          mjd: 61100,
          radiusArcsec: 2,
        })),
    );
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
  } finally {
    await db.close();
  }
});
