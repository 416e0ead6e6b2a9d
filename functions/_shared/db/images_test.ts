import assert from "node:assert/strict";
import { ensureProvenance } from "./provenances.ts";
import { openMigratedPglite } from "./testing.ts";
import {
  findImage,
  findTaggedImage,
  getImage,
  type ImageRecord,
  insertImage,
  raRange,
  updateImageSky,
} from "./images.ts";
import { tagProvenance } from "./provenances.ts";

Deno.test("raRange: the smallest arc holding every RA, across 0/360", () => {
  assert.deepEqual(raRange([10, 12, 11, 10.5]), { min: 10, max: 12 });
  assert.deepEqual(raRange([359.5, 0.5, 359.8, 0.2]), { min: 359.5, max: 0.5 });
});

Deno.test("insertImage/findImage/findTaggedImage/updateImageSky round-trip an images row", async () => {
  const db = await openMigratedPglite();
  try {
    const expProv = await ensureProvenance(db, {
      process: "exposure",
      codeVersion: "1.0.0",
      parameters: {},
      upstreams: [],
    });
    const prov = await ensureProvenance(db, {
      process: "preprocessing",
      codeVersion: "1.0.0",
      parameters: { a: 1 },
      upstreams: [expProv.id],
    });
    const exposureId = crypto.randomUUID();
    await db.query(
      `INSERT INTO exposures (id, provenance_id, instrument, telescope, mjd, exp_time, ra, dec,
         healpix, filepath, md5) VALUES ($1, $2, 'SimCam', 'T', 60000, 90, 10, 0, 0, 'raw/x', $3)`,
      [exposureId, expProv.id, "0".repeat(32)],
    );
    const rec: Omit<ImageRecord, "id"> = {
      provenanceId: prov.id,
      exposureId,
      sectionId: "N1",
      type: "sci",
      instrument: "SimCam",
      telescope: "T",
      target: null,
      filter: "r",
      mjd: 60000,
      expTime: 90,
      airmass: 1.2,
      width: 100,
      height: 200,
      ra: 0.01,
      dec: 1,
      healpix: 5,
      corners: { ra: [359.99, 359.99, 0.03, 0.03], dec: [0.9, 1.1, 0.9, 1.1] },
      fwhmEstimate: 1.1,
      zeroPointEstimate: null,
      limMagEstimate: null,
      bkgMeanEstimate: 900,
      bkgRmsEstimate: 30,
      preprocBitflag: 19,
      header: {},
      info: { x: 1 },
      bitflag: 0,
      upstreamBitflag: 4,
      filepath: "image/x.fits",
      md5: "a".repeat(32),
    };
    const id = await insertImage(db, rec);
    const got = await findImage(db, exposureId, "N1", prov.id);
    assert.equal(got?.id, id);
    assert.deepEqual({ ...got, id: undefined }, { ...rec, id: undefined });
    const [row] = await db.query<{ minra: number; maxra: number }>(
      "SELECT minra, maxra FROM images WHERE id = $1",
      [id],
    );
    assert.deepEqual([row.minra, row.maxra], [359.99, 0.03]);
    assert.equal(await findTaggedImage(db, exposureId, "N1", "t1"), null);
    await tagProvenance(db, "t1", prov);
    assert.equal((await findTaggedImage(db, exposureId, "N1", "t1"))?.id, id);
    const corners = { ra: [10, 10, 10.1, 10.1], dec: [-0.1, 0.1, -0.1, 0.1] } as ImageRecord[
      "corners"
    ];
    assert.equal(await updateImageSky(db, id, { ra: 10.05, dec: 0, healpix: 7, corners }), true);
    const moved = await getImage(db, id);
    assert.deepEqual([moved?.ra, moved?.dec, moved?.healpix], [10.05, 0, 7]);
    assert.deepEqual(moved?.corners, corners);
    assert.equal(
      await updateImageSky(db, crypto.randomUUID(), { ra: 1, dec: 1, healpix: 1, corners }),
      false,
    );
  } finally {
    await db.close();
  }
});
