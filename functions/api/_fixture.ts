/**
 * Test data for the API tests (unit tier on PGlite, integration tier on
 * Postgres): exposures, images, a difference chain with cutouts files,
 * measurements and objects, written through the real Db and ObjectStore.
 *
 * @module
 */
import type { Db } from "../_shared/db/db.ts";
import { type FourCorners, insertImage } from "../_shared/db/images.ts";
import { ensureProvenance, type Provenance, tagProvenance } from "../_shared/db/provenances.ts";
import { HEALPIX_ORDER } from "../_shared/db/schema.ts";
import { writeFits } from "../_shared/fits/writer.ts";
import { ang2pixNest } from "../_shared/sky/healpix.ts";
import type { ObjectStore } from "../_shared/storage/object_store.ts";

/** What {@linkcode seedFixture} made. */
export interface Fixture {
  provenances: Record<"exposure" | "preprocessing" | "subtraction" | "measuring", Provenance>;
  /** Exposures E1 (simcam r, mjd 60000), E2 (simcam g, 60001), E3 (decam r, 60002). */
  exposures: { E1: string; E2: string; E3: string };
  /** sci image of E1 N1 (box ra 149.9..150.1, dec 1.9..2.1) and two difference images. */
  images: { sci: string; diff1: string; diff2: string };
  /** cutouts of diff1 (2 stamps) and diff2 (1 stamp), size 9. */
  cutouts: { c1: string; c2: string };
  /** The stamps of c1, by index: new, ref, sub (9 x 9, row-major). */
  stamps: { new: Float32Array; ref: Float32Array; sub: Float32Array }[];
  /** O1 (150.001, 2) with 2 measurements; O2 36" east; O3 bad near O1; O4 far away. */
  objects: { O1: string; O2: string; O3: string; O4: string };
  measurements: { m1a: string; m1b: string; m2: string };
  stampSize: number;
}

let md5Counter = 0;
const fakeMd5 = () => (++md5Counter).toString(16).padStart(32, "0");

function box(ra0: number, ra1: number, dec0: number, dec1: number): FourCorners {
  return { ra: [ra0, ra0, ra1, ra1], dec: [dec0, dec1, dec0, dec1] };
}

/** A stamp: a Gaussian of `peak` at the centre on a sloped background of `seed`. */
function stamp(size: number, peak: number, seed: number): Float32Array {
  const out = new Float32Array(size * size);
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r2 = (x - c) ** 2 + (y - c) ** 2;
      out[y * size + x] = 100 + seed + 0.5 * x + peak * Math.exp(-r2 / 4);
    }
  }
  return out;
}

/** Seeds the database and store; ids are fresh each call (many fixtures may share a db). */
export async function seedFixture(db: Db, store: ObjectStore): Promise<Fixture> {
  const run = crypto.randomUUID().slice(0, 8);
  const prov = async (process: string, upstreams: string[]) =>
    await ensureProvenance(db, {
      process: process as Provenance["process"],
      codeVersion: "1.0.0",
      parameters: { run },
      upstreams,
    });
  const pExp = await prov("exposure", []);
  const pPre = await prov("preprocessing", [pExp.id]);
  const pSub = await prov("subtraction", [pPre.id]);
  const pMeas = await prov("measuring", [pSub.id]);
  await tagProvenance(db, `api-${run}`, pPre);
  await tagProvenance(db, `api-${run}`, pSub);

  const exposure = async (instrument: string, filter: string, mjd: number) => {
    const id = crypto.randomUUID();
    await db.query(
      `INSERT INTO exposures (id, provenance_id, instrument, telescope, project, target,
         origin_identifier, filter, mjd, exp_time, ra, dec, healpix, header, filepath, md5)
       VALUES ($1, $2, $3, 'scope', 'proj', $4, $5, $6, $7, 60, 150, 2, $8, $9, $10, $11)`,
      [
        id,
        pExp.id,
        instrument,
        `field-${run}`,
        `${run}-${mjd}`,
        filter,
        mjd,
        ang2pixNest(HEALPIX_ORDER, 150, 2),
        { OBJECT: `field-${run}` },
        `raw/${run}/${mjd}.fits`,
        fakeMd5(),
      ],
    );
    return id;
  };
  const E1 = await exposure("simcam", "r", 60000);
  const E2 = await exposure("simcam", "g", 60001);
  const E3 = await exposure("decam", "r", 60002);

  const image = async (
    type: string,
    exposureId: string | null,
    provenanceId: string,
    mjd: number,
  ) =>
    await insertImage(db, {
      provenanceId,
      exposureId,
      sectionId: "N1",
      type,
      instrument: "simcam",
      telescope: "scope",
      target: `field-${run}`,
      filter: "r",
      mjd,
      expTime: 60,
      airmass: 1.1,
      width: 100,
      height: 100,
      ra: 150,
      dec: 2,
      healpix: ang2pixNest(HEALPIX_ORDER, 150, 2),
      corners: box(149.9, 150.1, 1.9, 2.1),
      fwhmEstimate: 1.1,
      zeroPointEstimate: 30,
      limMagEstimate: 23,
      bkgMeanEstimate: 100,
      bkgRmsEstimate: 5,
      preprocBitflag: 0,
      header: { FILTER: "r" },
      info: {},
      bitflag: 0,
      upstreamBitflag: 0,
      filepath: `images/${run}/${type}-${mjd}.fits`,
      md5: fakeMd5(),
    });
  const sci = await image("sci", E1, pPre.id, 60000);
  const diff1 = await image("diff", E1, pSub.id, 60000);
  const diff2 = await image("diff", E2, pSub.id, 60001);

  const size = 9;
  const stamps = [
    { new: stamp(size, 500, 0), ref: stamp(size, 50, 3), sub: stamp(size, 450, -100) },
    { new: stamp(size, 80, 1), ref: stamp(size, 80, 1), sub: stamp(size, 0, -100) },
  ];
  const cube = (k: "new" | "ref" | "sub", list: typeof stamps) => {
    const data = new Float32Array(size * size * list.length);
    list.forEach((s, i) => data.set(s[k], i * size * size));
    return { data, axes: [size, size, list.length], name: k.toUpperCase() };
  };
  const cutouts = async (imageId: string, list: typeof stamps, tag: string) => {
    const sourcesId = crypto.randomUUID();
    await db.query(
      `INSERT INTO source_lists (id, image_id, provenance_id, format, num_sources, filepath, md5)
       VALUES ($1, $2, $3, 3, $4, $5, $6)`,
      [sourcesId, imageId, pSub.id, list.length, `sources/${run}/${tag}.fits`, fakeMd5()],
    );
    const key = `cutouts/${run}/${tag}.fits`;
    const info = await store.put(
      key,
      writeFits([{}, cube("new", list), cube("ref", list), cube("sub", list)]),
    );
    const id = crypto.randomUUID();
    await db.query(
      `INSERT INTO cutouts (id, sources_id, provenance_id, num_cutouts, stamp_size, filepath, md5)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, sourcesId, pSub.id, list.length, size, key, info.md5],
    );
    const setId = crypto.randomUUID();
    await db.query(
      `INSERT INTO measurement_sets (id, cutouts_id, provenance_id, num_measurements)
       VALUES ($1, $2, $3, $4)`,
      [setId, id, pMeas.id, list.length],
    );
    return { id, setId };
  };
  const c1 = await cutouts(diff1, stamps, "c1");
  const c2 = await cutouts(diff2, [stamps[0]], "c2");

  const object = async (name: string, ra: number, dec: number, bad = false) => {
    const id = crypto.randomUUID();
    await db.query(
      `INSERT INTO objects (id, name, ra, dec, healpix, is_bad) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, `${name}-${run}`, ra, dec, ang2pixNest(HEALPIX_ORDER, ra, dec), bad],
    );
    return id;
  };
  const cosd = Math.cos(2 * Math.PI / 180);
  const O1 = await object("O1", 150.001, 2);
  const O2 = await object("O2", 150.001 + 36 / 3600 / cosd, 2);
  const O3 = await object("O3", 150.001, 2.0002, true);
  const O4 = await object("O4", 10, 10);

  const measurement = async (setId: string, index: number, objectId: string, ra: number) => {
    const id = crypto.randomUUID();
    await db.query(
      `INSERT INTO measurements (id, measurement_set_id, index_in_sources, object_id, ra, dec,
         healpix, x, y, flux_psf, flux_psf_err, mag_psf, mag_psf_err, flux_apertures, aper_radii)
       VALUES ($1, $2, $3, $4, $5, 2, $6, 50, 50, 1000, 10, 22.5, 0.01, $7, $8)`,
      [id, setId, index, objectId, ra, ang2pixNest(HEALPIX_ORDER, ra, 2), [900, 1000], [3, 6]],
    );
    return id;
  };
  // inserted later-epoch first: the endpoint must order by MJD
  const m1b = await measurement(c2.setId, 0, O1, 150.001);
  const m1a = await measurement(c1.setId, 0, O1, 150.001);
  const m2 = await measurement(c1.setId, 1, O2, 150.011);

  return {
    provenances: {
      exposure: pExp,
      preprocessing: pPre,
      subtraction: pSub,
      measuring: pMeas,
    },
    exposures: { E1, E2, E3 },
    images: { sci, diff1, diff2 },
    cutouts: { c1: c1.id, c2: c2.id },
    stamps,
    objects: { O1, O2, O3, O4 },
    measurements: { m1a, m1b, m2 },
    stampSize: size,
  };
}
