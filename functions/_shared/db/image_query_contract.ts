/**
 * The queryImages contract, run by image_query_test.ts on PGlite and by
 * tests/integration/api_image_query_postgres_test.ts on Postgres 15, with hand-made
 * images: each filter,
 * the footprint tests (exact FourCorners containment, RA wrap at 0/360), the bounding-box overlap fraction, the tag join, ordering and paging,
 * and extending the statement.
 */
import assert from "node:assert/strict";
import type { Db } from "./db.ts";
import { type FourCorners, insertImage } from "./images.ts";
import { type ImageQueryOptions, queryImages, shiftParams } from "./image_query.ts";
import { ensureProvenance, tagProvenance } from "./provenances.ts";
import { HEALPIX_ORDER } from "./schema.ts";
import { ang2pixNest } from "../sky/healpix.ts";

/** An axis-aligned footprint [ra0, ra1] x [dec0, dec1]; ra1 < ra0 crosses RA = 0. */
function box(ra0: number, ra1: number, dec0: number, dec1: number): FourCorners {
  return { ra: [ra0, ra0, ra1, ra1], dec: [dec0, dec1, dec0, dec1] };
}

/** A square of half-diagonal h (deg on the sky) turned by 45 degrees: a diamond. */
function diamond(ra: number, dec: number, h: number): FourCorners {
  const dra = h / Math.cos(dec * Math.PI / 180);
  // 00 = left, 01 = top, 10 = bottom, 11 = right: 00 -> 01 -> 11 -> 10 goes around
  return { ra: [ra - dra, ra, ra, ra + dra], dec: [dec, dec + h, dec - h, dec] };
}

interface Spec {
  name: string;
  corners: FourCorners;
  type?: string;
  target?: string;
  section?: string;
  filter?: string;
  instrument?: string;
  mjd: number;
  fwhm?: number | null;
  limMag?: number | null;
  airmass?: number;
  provenance: string;
  bitflag?: number;
}

async function fixture(db: Db): Promise<Map<string, string>> {
  const p1 = await ensureProvenance(db, {
    process: "preprocessing",
    codeVersion: "1.0.0",
    parameters: { a: 1 },
    upstreams: [],
  });
  const p2 = await ensureProvenance(db, {
    process: "preprocessing",
    codeVersion: "1.0.0",
    parameters: { a: 2 },
    upstreams: [],
  });
  const pc = await ensureProvenance(db, {
    process: "coaddition",
    codeVersion: "1.0.0",
    parameters: {},
    upstreams: [p1.id],
  });
  await tagProvenance(db, "t1", p1);
  await tagProvenance(db, "t1", pc);
  await tagProvenance(db, "t2", p2);
  const specs: Spec[] = [
    // A, B: the same field, R and g
    {
      name: "A",
      corners: box(10, 10.5, 20, 20.5),
      mjd: 59001,
      fwhm: 1.0,
      limMag: 22.5,
      provenance: p1.id,
    },
    {
      name: "B",
      corners: box(10, 10.5, 20, 20.5),
      filter: "g",
      mjd: 59003,
      fwhm: 1.8,
      limMag: 21.5,
      provenance: p2.id,
    },
    // C: a diamond on the same centre, another section and later
    {
      name: "C",
      corners: diamond(10.25, 20.25, 0.35),
      section: "N2",
      mjd: 59010,
      fwhm: 1.2,
      limMag: 23.0,
      provenance: p1.id,
    },
    // D: crosses RA = 0
    {
      name: "D",
      corners: box(359.8, 0.2, -5, -4.5),
      target: "f2",
      mjd: 59002,
      fwhm: null,
      limMag: null,
      provenance: p1.id,
    },
    // E: a coadd of the first field; F: a difference; G: another instrument, bad
    {
      name: "E",
      corners: box(10, 10.5, 20, 20.5),
      type: "comsci",
      mjd: 59001.5,
      fwhm: 1.1,
      limMag: 24,
      provenance: pc.id,
    },
    { name: "F", corners: box(10, 10.5, 20, 20.5), type: "diff", mjd: 59004, provenance: p2.id },
    {
      name: "G",
      corners: box(10, 10.5, 20, 20.5),
      instrument: "decam",
      mjd: 59005,
      airmass: 1.9,
      provenance: p2.id,
      bitflag: 2,
    },
  ];
  const ids = new Map<string, string>();
  let k = 0;
  for (const s of specs) {
    const ra = s.corners.ra, dec = s.corners.dec;
    const cra = s.name === "D" ? 0 : (Math.min(...ra) + Math.max(...ra)) / 2;
    const cdec = (Math.min(...dec) + Math.max(...dec)) / 2;
    const id = await insertImage(db, {
      provenanceId: s.provenance,
      exposureId: null,
      sectionId: s.section ?? "N1",
      type: s.type ?? "sci",
      instrument: s.instrument ?? "simcam",
      telescope: "simscope",
      target: s.target ?? "f1",
      filter: s.filter ?? "R",
      mjd: s.mjd,
      expTime: 60,
      airmass: s.airmass ?? 1.2,
      width: 2048,
      height: 4096,
      ra: cra,
      dec: cdec,
      healpix: ang2pixNest(HEALPIX_ORDER, cra, cdec),
      corners: s.corners,
      fwhmEstimate: s.fwhm === undefined ? 1.5 : s.fwhm,
      zeroPointEstimate: 31,
      limMagEstimate: s.limMag === undefined ? 22 : s.limMag,
      bkgMeanEstimate: null,
      bkgRmsEstimate: null,
      preprocBitflag: 0,
      header: {},
      info: {},
      bitflag: s.bitflag ?? 0,
      upstreamBitflag: 0,
      filepath: `images/${s.name}.fits`,
      md5: (k++).toString(16).padStart(32, "0"),
    });
    ids.set(id, s.name);
  }
  return ids;
}

/**
 * Registers the queryImages tests on a database made by `open` (migrated, with
 * no images yet; closed after), named with `label`; ignored when `open` is null.
 */
export function imageQueryContract(label: string, open: (() => Promise<Db>) | null): void {
  let shared: Promise<{ db: Db; names: Map<string, string> }> | undefined;
  const setup = () =>
    shared ??= (async () => {
      const db = await open!();
      return { db, names: await fixture(db) };
    })();
  let db: Db;
  let names: Map<string, string>;
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `${name} [${label}]`,
      ignore: open === null,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        ({ db, names } = await setup());
        await fn();
      },
    });
  async function found(options: ImageQueryOptions): Promise<string[]> {
    const rows = await queryImages(options).run(db);
    return rows.map((r) => names.get(r.id)!);
  }
  const sorted = (xs: string[]) => [...xs].sort();

  test("queryImages: each scalar filter selects exactly the matching images", async () => {
    assert.deepEqual(await found({}), ["A", "E", "D", "B", "F", "G", "C"]);
    assert.deepEqual(sorted(await found({ target: "f2" })), ["D"]);
    assert.deepEqual(sorted(await found({ sectionId: "N2" })), ["C"]);
    assert.deepEqual(sorted(await found({ filter: "g" })), ["B"]);
    assert.deepEqual(sorted(await found({ filter: ["g", "R"], instrument: "decam" })), ["G"]);
    assert.deepEqual(
      sorted(await found({ instrument: ["simcam"], minMjd: 59003, maxMjd: 59006 })),
      ["B", "F"],
    );
    assert.deepEqual(sorted(await found({ maxSeeing: 1.2 })), ["A", "C", "E"]);
    assert.deepEqual(sorted(await found({ minSeeing: 1.2, maxSeeing: 1.5 })), ["C", "F", "G"]);
    assert.deepEqual(sorted(await found({ minLimMag: 22.5 })), ["A", "C", "E"]);
    assert.deepEqual(sorted(await found({ maxLimMag: 21.9 })), ["B"]);
    assert.deepEqual(sorted(await found({ type: "sci" })), ["A", "B", "C", "D", "G"]);
    assert.deepEqual(sorted(await found({ type: "coadd" })), ["E"]);
    assert.deepEqual(sorted(await found({ type: "diff" })), ["F"]);
    assert.deepEqual(sorted(await found({ type: "comsci" })), ["E"]);
    assert.deepEqual(sorted(await found({ goodOnly: true, instrument: "decam" })), []);
  });

  test("queryImages: provenanceTag joins provenance_tags (every process of the tag, no duplicates)", async () => {
    // t1 holds p1 (preprocessing) and pc (coaddition)
    assert.deepEqual(sorted(await found({ provenanceTag: "t1" })), ["A", "C", "D", "E"]);
    assert.deepEqual(sorted(await found({ provenanceTag: "t2", filter: "R" })), ["F", "G"]);
    assert.deepEqual(await found({ provenanceTag: "nope" }), []);
    assert.deepEqual(sorted(await found({ provenanceTag: "t1", type: "coadd" })), ["E"]);
  });

  test("queryImages: ra/dec selects footprints containing the point (FourCorners, not the box)", async () => {
    const sci = { type: "sci" as const, instrument: "simcam" };
    // the centre is in A, B and the diamond C
    assert.deepEqual(sorted(await found({ ...sci, ra: 10.25, dec: 20.25 })), ["A", "B", "C"]);
    // near A's corner: inside C's bounding box, outside the diamond itself
    assert.deepEqual(sorted(await found({ ...sci, ra: 10.05, dec: 20.05 })), ["A", "B"]);
    // just inside the diamond's left vertex region: |dx| cos(dec) + |dy| = 0.3 < 0.35
    const cos = Math.cos(20.25 * Math.PI / 180);
    assert.deepEqual(
      sorted(await found({ ...sci, ra: 10.25 - 0.2 / cos, dec: 20.35 })),
      ["A", "B", "C"],
    );
    // ... and just outside it (0.38 > 0.35) while still inside A
    assert.deepEqual(sorted(await found({ ...sci, ra: 10.25 - 0.2 / cos, dec: 20.43 })), [
      "A",
      "B",
    ]);
    // outside everything
    assert.deepEqual(await found({ ...sci, ra: 11, dec: 20.25 }), []);
  });

  test("queryImages: ra/dec across RA = 0", async () => {
    assert.deepEqual(await found({ ra: 0.1, dec: -4.8 }), ["D"]);
    assert.deepEqual(await found({ ra: 359.9, dec: -4.8 }), ["D"]);
    assert.deepEqual(await found({ ra: -0.1, dec: -4.8 }), ["D"]); // taken modulo 360
    assert.deepEqual(await found({ ra: 0.3, dec: -4.8 }), []);
    assert.deepEqual(await found({ ra: 359.7, dec: -4.8 }), []);
    assert.deepEqual(await found({ ra: 180, dec: -4.8 }), []);
    assert.deepEqual(await found({ ra: 0, dec: -4.4 }), []);
  });

  test("queryImages: overlap fraction of a box (bounding boxes, RA wrap) in SQL", async () => {
    const half = { minRa: 10.25, maxRa: 10.75, minDec: 20, maxDec: 20.5 };
    const rows = await queryImages({
      type: "sci",
      instrument: "simcam",
      filter: "R",
      overlap: { box: half },
      orderBy: "overlap",
    }).run(db);
    const byName = Object.fromEntries(rows.map((r) => [names.get(r.id), r.overlapFrac]));
    assert.ok(Math.abs(byName.A! - 0.5) < 1e-12, `A ${byName.A}`);
    // C's bounding box: ra 10.25 +- 0.35/cos(20.25), dec 20.25 +- 0.35
    const cdra = 0.35 / Math.cos(20.25 * Math.PI / 180);
    const cFrac = (Math.min(10.25 + cdra, 10.75) - 10.25) * 0.5 / 0.25;
    assert.ok(Math.abs(byName.C! - cFrac) < 1e-12, `C ${byName.C} vs ${cFrac}`);
    assert.deepEqual(rows.map((r) => names.get(r.id)), ["C", "A"]); // largest first
    // minFraction: A's 0.5 passes 0.5 (inclusive), C's 0.746 passes 0.6, A does not
    assert.deepEqual(
      sorted(
        await found({
          type: "sci",
          filter: "R",
          instrument: "simcam",
          overlap: { box: half, minFraction: 0.5 },
        }),
      ),
      ["A", "C"],
    );
    assert.deepEqual(
      await found({ type: "sci", filter: "R", overlap: { box: half, minFraction: 0.6 } }),
      ["C"],
    );
    // a box crossing RA = 0 inside D: fully covered
    const wrap = await queryImages({
      overlap: { box: { minRa: 359.9, maxRa: 0.1, minDec: -4.9, maxDec: -4.6 } },
    }).run(db);
    assert.deepEqual(wrap.map((r) => names.get(r.id)), ["D"]);
    assert.ok(Math.abs(wrap[0].overlapFrac! - 1) < 1e-9);
    // a box [0.1, 0.4] x [-4.9, -4.4]: D covers ra 0.1..0.2 (1/3) and dec -4.9..-4.5 (4/5)
    const edge = await queryImages({ overlap: { box: box(0.1, 0.4, -4.9, -4.4) } }).run(db);
    assert.deepEqual(edge.map((r) => names.get(r.id)), ["D"]);
    assert.ok(Math.abs(edge[0].overlapFrac! - (1 / 3) * (4 / 5)) < 1e-9, `${edge[0].overlapFrac}`);
    // a box on the other side of the sky overlaps nothing
    assert.deepEqual(await found({ overlap: { box: box(179.9, 180.1, -4.9, -4.6) } }), []);
  });

  test("queryImages: order, limit, offset, count", async () => {
    const sci = { type: "sci" as const, instrument: "simcam" };
    assert.deepEqual(await found({ ...sci, orderBy: "latest" }), ["C", "B", "D", "A"]);
    assert.deepEqual(await found({ ...sci, orderBy: "seeing" }), ["A", "C", "B", "D"]);
    assert.deepEqual(await found({ ...sci, orderBy: "depth" }), ["C", "A", "B", "D"]);
    assert.deepEqual(await found({ ...sci, orderBy: "latest", limit: 2, offset: 1 }), ["B", "D"]);
    assert.equal(await queryImages({ ...sci, limit: 1 }).count(db), 4);
  });

  test("ImageQuery.where: the caller's condition is ANDed and its $n renumbered; sql can be wrapped", async () => {
    assert.equal(shiftParams("a = $1 AND b < $12", 3), "a = $4 AND b < $15");
    const q = queryImages({ filter: "R", minMjd: 59000 });
    const extended = q.where("i.airmass > $1 AND i.section_id = $2", [1.5, "N1"]);
    assert.equal(extended.params.length, q.params.length + 2);
    assert.deepEqual(
      (await extended.run(db)).map((r) => names.get(r.id)),
      ["G"],
    );
    // wrapping: the statement is a complete SELECT whose params are q.params
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (${q.sql}) AS s WHERE s.exp_time = $${q.params.length + 1}`,
      [...q.params, 60],
    );
    assert.equal(n, 6);
    assert.throws(() => queryImages({ ra: 1 }), /both ra and dec/);
    assert.throws(() => queryImages({ orderBy: "overlap" }), /needs overlap/);
    assert.throws(() => queryImages({ minMjd: NaN }), /finite/);
  });

  Deno.test({
    name: `imageQueryContract: close the database [${label}]`,
    ignore: open === null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (shared) await (await shared).db.close();
    },
  });
}
