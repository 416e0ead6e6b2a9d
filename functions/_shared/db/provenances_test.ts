import assert from "node:assert/strict";
import type { Db } from "./db.ts";
import { migrate } from "./migrate.ts";
import { openDb } from "./open.ts";
import { badnessOf, markBad } from "./badness.ts";
import { BADNESS, namesToBits } from "./enums.ts";
import {
  ensureProvenance,
  getProvenance,
  TagConflict,
  taggedProvenances,
  tagProvenance,
} from "./provenances.ts";
import { recordReport } from "./reports.ts";

async function freshDb(): Promise<Db> {
  const db = await openDb({ memory: true });
  await migrate(db);
  return db;
}

const exposureProv = {
  process: "exposure" as const,
  codeVersion: "1.0.0",
  parameters: {},
  upstreams: [],
};

Deno.test("ensureProvenance stores the provenance, its code version and upstream links once", async () => {
  const db = await freshDb();
  try {
    const up = await ensureProvenance(db, exposureProv);
    const down = await ensureProvenance(db, {
      process: "preprocessing",
      codeVersion: "1.2.3",
      parameters: { steps: ["overscan", "flat"] },
      upstreams: [up.id],
    });
    await ensureProvenance(db, {
      process: "preprocessing",
      codeVersion: "1.2.4",
      parameters: { steps: ["overscan", "flat"] },
      upstreams: [up.id],
    });
    const again = await getProvenance(db, down.id);
    assert.deepEqual(again?.upstreams, [up.id]);
    assert.equal(again?.process, "preprocessing");
    assert.deepEqual(again?.parameters, { steps: ["overscan", "flat"] });
    const [{ n }] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM provenances");
    assert.equal(n, 2, "a patch bump reuses the provenance");
    const [{ c }] = await db.query<{ c: number }>("SELECT count(*)::int AS c FROM code_versions");
    assert.equal(c, 3, "but records the patch version");
  } finally {
    await db.close();
  }
});

Deno.test("tagProvenance allows one provenance per process per tag, several for referencing", async () => {
  const db = await freshDb();
  try {
    const a = await ensureProvenance(db, { ...exposureProv, parameters: { a: 1 } });
    const b = await ensureProvenance(db, { ...exposureProv, parameters: { a: 2 } });
    await tagProvenance(db, "default", a);
    await tagProvenance(db, "default", a);
    await assert.rejects(() => tagProvenance(db, "default", b), TagConflict);
    await tagProvenance(db, "other", b);
    assert.deepEqual(await taggedProvenances(db, "default", "exposure"), [a.id]);
    const r1 = await ensureProvenance(db, {
      process: "referencing",
      codeVersion: "1.0.0",
      parameters: { n: 1 },
      upstreams: [],
    });
    const r2 = await ensureProvenance(db, {
      process: "referencing",
      codeVersion: "1.0.0",
      parameters: { n: 2 },
      upstreams: [],
    });
    await tagProvenance(db, "default", r1);
    await tagProvenance(db, "default", r2);
    assert.deepEqual(
      (await taggedProvenances(db, "default", "referencing")).sort(),
      [r1.id, r2.id].sort(),
    );
  } finally {
    await db.close();
  }
});

async function insertExposure(db: Db, provenanceId: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `INSERT INTO exposures (id, provenance_id, instrument, telescope, mjd, exp_time, ra, dec, healpix, filepath, md5)
     VALUES ($1, $2, 'SimCam', 'SimScope', 60000, 60, 10, -5, 1, $3, $4)`,
    [id, provenanceId, `raw/${id}.fits`, "0".repeat(32)],
  );
  return id;
}

async function insertImage(
  db: Db,
  provenanceId: string,
  exposureId: string,
  section: string,
): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `INSERT INTO images (id, provenance_id, exposure_id, section_id, type, instrument, telescope, mjd, exp_time,
       width, height, ra, dec, healpix, minra, maxra, mindec, maxdec, filepath, md5,
       ra_corner_00, ra_corner_01, ra_corner_10, ra_corner_11,
       dec_corner_00, dec_corner_01, dec_corner_10, dec_corner_11)
     VALUES ($1, $2, $3, $4, 1, 'SimCam', 'SimScope', 60000, 60, 10, 10, 10, -5, 1, 9, 11, -6, -4, $5, $6,
       9, 9, 11, 11, -6, -4, -6, -4)`,
    [id, provenanceId, exposureId, section, `img/${id}.fits`, "0".repeat(32)],
  );
  return id;
}

Deno.test("markBad sets the product's bits and ORs them into everything downstream", async () => {
  const db = await freshDb();
  try {
    const prov = await ensureProvenance(db, exposureProv);
    const pre = await ensureProvenance(db, {
      process: "preprocessing",
      codeVersion: "1.0.0",
      parameters: {},
      upstreams: [prov.id],
    });
    const exposure = await insertExposure(db, prov.id);
    const other = await insertExposure(db, prov.id);
    const img1 = await insertImage(db, pre.id, exposure, "N1");
    const img2 = await insertImage(db, pre.id, exposure, "N2");
    const unrelated = await insertImage(db, pre.id, other, "N1");
    const changed = await markBad(db, "exposures", exposure, ["banding", "bright_sky"]);
    assert.equal(changed, 2);
    const bits = namesToBits(BADNESS, ["banding", "bright_sky"]);
    assert.equal(await badnessOf(db, "exposures", exposure), bits);
    assert.equal(await badnessOf(db, "images", img1), bits);
    assert.equal(await badnessOf(db, "images", img2), bits);
    assert.equal(await badnessOf(db, "images", unrelated), 0);
    const [own] = await db.query<{ b: number }>("SELECT _bitflag AS b FROM images WHERE id = $1", [
      img1,
    ]);
    assert.equal(Number(own.b), 0, "downstream rows get upstream bits, not own bits");
    // bits above 31 survive (JS | would truncate them)
    await markBad(db, "images", img2, ["bleed_trail"]);
    assert.equal(await badnessOf(db, "images", img2), bits + 2 ** 46);
  } finally {
    await db.close();
  }
});

Deno.test("recordReport keeps one row per (exposure, section, process, provenance), updated by retries", async () => {
  const db = await freshDb();
  try {
    const prov = await ensureProvenance(db, exposureProv);
    const exposure = await insertExposure(db, prov.id);
    const message = {
      v: 1 as const,
      step: "headersummary" as const,
      exposure_id: exposure,
      provenance_tag: "default",
      trace_id: "0123456789abcdef",
      attempt: 1,
    };
    const base = {
      message,
      provenanceId: prov.id,
      runtimeMs: 12,
      peakMemoryMb: 50,
      warnings: [],
      metrics: {},
    };
    await recordReport(db, { ...base, outcome: "retry", error: "Error: boom" });
    await recordReport(db, {
      ...base,
      outcome: "done",
      metrics: { extensions: 3 },
      message: { ...message, attempt: 2 },
    });
    const rows = await db.query<
      {
        status: number;
        attempt: number;
        error_type: string | null;
        metrics: Record<string, number>;
      }
    >(
      "SELECT status, attempt, error_type, metrics FROM reports",
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 2);
    assert.equal(rows[0].attempt, 2);
    assert.equal(rows[0].error_type, null);
    assert.deepEqual(rows[0].metrics, { extensions: 3 });
  } finally {
    await db.close();
  }
});
