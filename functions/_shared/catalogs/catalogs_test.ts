import assert from "node:assert/strict";
import { openMigratedPglite } from "../db/testing.ts";
import { SimSky } from "../sim/sky.ts";
import { FsObjectStore } from "../storage/fs_store.ts";
import {
  CatalogExcerpts,
  type CatalogSource,
  excerptFits,
  fieldRect,
  FileCatalogSource,
  HttpGaiaSource,
  parseExcerptReply,
  type RefStar,
  refStarsFromColumns,
  SimSkySource,
  type SkyRect,
} from "./mod.ts";

const sky = new SimSky({ seed: 17 });
const RECT: SkyRect = { minRa: 120.0, maxRa: 120.3, minDec: -10.2, maxDec: -9.9 };

/** An excerpt server on loopback: Gaia archive column names, JSON columns. */
function serve(): { base: string; hits: () => number; close: () => Promise<void> } {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const m = /^\/gaiarect\/([-\d.]+)\/([-\d.]+)\/([-\d.]+)\/([-\d.]+)$/.exec(
      new URL(req.url).pathname,
    );
    if (!m) return new Response("not found", { status: 404 });
    hits++;
    const [minRa, maxRa, minDec, maxDec] = m.slice(1).map(Number);
    const stars = sky.gaiaRect({ minRa, maxRa, minDec, maxDec });
    const body = {
      status: "ok",
      source_id: stars.map((s) => s.id),
      ra: stars.map((s) => s.ra),
      dec: stars.map((s) => s.dec),
      ra_error: stars.map((s) => s.raErr),
      dec_error: stars.map((s) => s.decErr),
      pmra: stars.map((s) => s.pmra),
      pmdec: stars.map((s) => s.pmdec),
      pmra_error: stars.map((s) => s.pmraErr),
      pmdec_error: stars.map((s) => s.pmdecErr),
      parallax: stars.map((s) => s.parallax),
      parallax_error: stars.map((s) => s.parallaxErr),
      phot_g_mean_mag: stars.map((s) => s.g),
      phot_g_mean_flux_over_error: stars.map((s) => 2.5 / Math.LN10 / s.gErr),
      phot_bp_mean_mag: stars.map((s) => s.bp),
      phot_rp_mean_mag: stars.map((s) => s.rp),
    };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    base: `http://127.0.0.1:${addr.port}`,
    hits: () => hits,
    close: () => server.shutdown(),
  };
}

function sameStars(a: RefStar[], b: RefStar[]): void {
  assert.equal(a.length, b.length);
  const byId = new Map(b.map((s) => [s.id, s]));
  for (const s of a) {
    const t = byId.get(s.id)!;
    assert.ok(t, `missing ${s.id}`);
    assert.ok(Math.abs(s.ra - t.ra) < 1e-12 && Math.abs(s.dec - t.dec) < 1e-12);
    assert.ok(Math.abs(s.g - t.g) < 1e-12 && Math.abs(s.pmra - t.pmra) < 1e-12);
  }
}

Deno.test("HttpGaiaSource.rect: the gaiarect URL, Gaia column names, flux-over-error to mag errors", async () => {
  const srv = serve();
  try {
    const src = new HttpGaiaSource({ base: `${srv.base}/` });
    assert.equal(src.url(RECT), `${srv.base}/gaiarect/120.000000/120.300000/-10.200000/-9.900000`);
    const got = await src.rect(RECT);
    // the source keeps G <= 21 as reported (with its error)
    const want = sky.gaiaRect(RECT).filter((s) => s.g <= 21);
    assert.ok(want.length > 50);
    sameStars(got, want);
    const g0 = got.find((s) => s.id === want[0].id)!;
    assert.ok(Math.abs(g0.gErr - want[0].gErr) < 1e-12);
    const bad = new HttpGaiaSource({ base: `${srv.base}/nothing`, attempts: 1 });
    await assert.rejects(() => bad.rect(RECT), /HTTP 404/);
  } finally {
    await srv.close();
  }
});

Deno.test("parseExcerptReply: JSON rows, JSON columns under data, CSV; error status", () => {
  const rows = parseExcerptReply('[{"ra": 1, "dec": 2, "phot_g_mean_mag": 15}]');
  assert.equal(refStarsFromColumns(rows)[0].g, 15);
  const nested = parseExcerptReply('{"status": "ok", "data": {"ra": [1, 3], "dec": [2, 4]}}');
  assert.equal(refStarsFromColumns(nested).length, 2);
  const csv = parseExcerptReply("source_id,ra,dec,phot_g_mean_mag\n7,10.5,-3,16.25\n");
  assert.deepEqual(refStarsFromColumns(csv)[0].id, "7");
  assert.throws(() => parseExcerptReply('{"status": "error", "error": "too big"}'), /too big/);
});

Deno.test("FileCatalogSource: FITS and CSV files give the rectangle's stars", async () => {
  const stars = sky.gaiaRect(RECT);
  const sub: SkyRect = { minRa: 120.1, maxRa: 120.2, minDec: -10.1, maxDec: -10.0 };
  const fits = new FileCatalogSource({ bytes: excerptFits(stars) });
  sameStars(await fits.rect(sub), sky.gaiaRect(sub));
  const csv = ["id,ra,dec,phot_g_mean_mag", ...stars.map((s) => `${s.id},${s.ra},${s.dec},${s.g}`)]
    .join("\n");
  const fromCsv = await new FileCatalogSource({ bytes: new TextEncoder().encode(csv) }).rect(sub);
  assert.equal(fromCsv.length, sky.gaiaRect(sub).length);
  sameStars(await new SimSkySource(sky).rect(sub), sky.gaiaRect(sub));
});

Deno.test("CatalogExcerpts.get: concurrent requests fetch once; CCD rectangles read the field's excerpt", async () => {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir({ prefix: "skydiff_catalogs_" });
  const store = new FsObjectStore({ root, fsync: false });
  const srv = serve();
  try {
    const cache = new CatalogExcerpts(
      db,
      store,
      new HttpGaiaSource({ base: srv.base }),
      "gaia_dr3",
    );
    const field = fieldRect(120.15, -10.05, 0.15);
    const [a, b, c] = await Promise.all([cache.get(field), cache.get(field), cache.get(field)]);
    assert.equal(srv.hits(), 1);
    assert.equal([a, b, c].filter((e) => e.fetched).length, 1);
    assert.equal(a.id, b.id);
    sameStars(a.stars, sky.gaiaRect(field).filter((s) => s.g <= 21));
    // a CCD inside the field: no new fetch, the same excerpt row
    const ccd: SkyRect = { minRa: 120.05, maxRa: 120.12, minDec: -10.1, maxDec: -9.95 };
    const e = await cache.get(ccd);
    assert.equal(srv.hits(), 1);
    assert.equal(e.id, a.id);
    sameStars(e.stars, sky.gaiaRect(ccd).filter((s) => s.g <= 21));
    // another cache object on the same database (another worker) finds the row too
    const other = new CatalogExcerpts(
      db,
      store,
      new HttpGaiaSource({ base: srv.base }),
      "gaia_dr3",
    );
    assert.equal((await other.get(field)).fetched, false);
    assert.equal(srv.hits(), 1);
    const rows = await db.query("SELECT num_items, minra, maxdec FROM catalog_excerpts");
    assert.equal(rows.length, 1);
    assert.equal(Number(rows[0].num_items), a.stars.length);
    // a fainter limit is another excerpt
    const deep: CatalogSource = new SimSkySource(new SimSky({ seed: 17, gaiaFaintMag: 23 }));
    const simCache = new CatalogExcerpts(db, store, deep, "simulated");
    const s = await simCache.get(ccd, { maxMag: 22 });
    assert.ok(s.fetched && s.stars.some((x) => x.g > 21));
  } finally {
    await srv.close();
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});
