/**
 * The API app through `app.request(...)` on a migrated in-memory PGlite, an fs
 * object store in a temporary directory and an in-process jobs queue, with the
 * rows and files of functions/api/_fixture.ts: every endpoint's success and its
 * 400 / 404 cases, problem details, the PNG triplet decoded back.
 */
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { openMigratedPglite } from "../_shared/db/testing.ts";
import { Logger } from "../_shared/log.ts";
import { MemoryQueue } from "../_shared/queue/memory_queue.ts";
import type { Queue } from "../_shared/queue/queue.ts";
import { FsObjectStore } from "../_shared/storage/fs_store.ts";
import type { ObjectStore } from "../_shared/storage/object_store.ts";
import { createApp } from "./app.ts";
import { seedFixture } from "./_fixture.ts";
import { JobMessageSchema } from "./jobs.ts";
import { readPng } from "./_png_read.ts";
import { stretchToBytes } from "./stretch.ts";

const db = await openMigratedPglite();
const root = await Deno.makeTempDir({ prefix: "skydiff_api_" });
const store = new FsObjectStore({ root, fsync: false });
const jobs = new MemoryQueue(`jobs-${crypto.randomUUID()}`);
const fx = await seedFixture(db, store);
const logLines: string[] = [];
const log = new Logger({}, "info", (line) => logLines.push(line));
const app = createApp({ db, store, jobs, log });
const target = (await db.query<{ target: string }>(
  "SELECT target FROM exposures WHERE id = $1",
  [fx.exposures.E1],
))[0].target;

const opts = { sanitizeResources: false, sanitizeOps: false };

async function get(a: Hono, path: string) {
  const res = await a.request(path);
  const type = res.headers.get("content-type") ?? "";
  const body = type.includes("json") ? await res.json() : new Uint8Array(await res.arrayBuffer());
  return { res, status: res.status, type, body };
}

function post(path: string, body: unknown, contentType = "application/json") {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Asserts a problem-details response: status, media type, fields, and the invalid field. */
async function assertProblem(res: Response, status: number, field?: string) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const p = await res.json();
  assert.equal(p.status, status);
  assert.equal(typeof p.type, "string");
  assert.equal(typeof p.title, "string");
  assert.equal(typeof p.detail, "string");
  assert.equal(typeof p.instance, "string");
  if (field !== undefined) {
    assert.equal(p.field, field, JSON.stringify(p));
    assert.ok(p.invalid_params.some((x: { name: string }) => x.name === field));
  }
  return p;
}

Deno.test({
  name: "POST /coadds: 202, a queued jobs row and one job message; GET /jobs/:id returns it",
  ...opts,
  fn: async () => {
    const depth0 = await jobs.depth();
    const request = { ra: 150, dec: 2, filter: "r", min_mjd: 60000, max_mjd: 60007 };
    const res = await post("/coadds", request);
    assert.equal(res.status, 202);
    const job = await res.json();
    assert.equal(res.headers.get("location"), `/jobs/${job.id}`);
    assert.equal(job.kind, "coadd");
    assert.equal(job.status, "queued");
    assert.deepEqual(job.request, request);
    assert.equal(await jobs.depth(), depth0 + 1);
    const [msg] = await jobs.receive({ max: 10 });
    const parsed = JobMessageSchema.parse(JSON.parse(msg.body));
    assert.deepEqual(parsed, {
      v: 1,
      job_id: job.id,
      kind: "coadd",
      trace_id: job.trace_id,
      attempt: 1,
    });
    await jobs.ack(msg);
    const got = await get(app, `/jobs/${job.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.id, job.id);
    assert.equal(got.body.status, "queued");
    assert.deepEqual(got.body.request, request);
  },
});

Deno.test({
  name: "POST /references: needs refset; 202 with kind reference",
  ...opts,
  fn: async () => {
    await assertProblem(await post("/references", { ra: 1, dec: 2, filter: "g" }), 400, "refset");
    const res = await post("/references", {
      ra: 359.5,
      dec: -30,
      filter: "g",
      refset: "survey-v1",
      allow_append: false,
    });
    assert.equal(res.status, 202);
    const job = await res.json();
    assert.equal(job.kind, "reference");
    const [msg] = await jobs.receive({ max: 10 });
    assert.equal(JobMessageSchema.parse(JSON.parse(msg.body)).kind, "reference");
    await jobs.ack(msg);
  },
});

Deno.test({
  name: "POST /coadds: invalid bodies are 400 problem details naming the field; not JSON is 415",
  ...opts,
  fn: async () => {
    const depth0 = await jobs.depth();
    await assertProblem(await post("/coadds", { ra: 400, dec: 2, filter: "r" }), 400, "ra");
    await assertProblem(await post("/coadds", { ra: 1, dec: -91, filter: "r" }), 400, "dec");
    await assertProblem(await post("/coadds", { ra: 1, dec: 2 }), 400, "filter");
    await assertProblem(await post("/coadds", { ra: "1", dec: 2, filter: "r" }), 400, "ra");
    await assertProblem(
      await post("/coadds", { ra: 1, dec: 2, filter: "r", min_mjd: 60010, max_mjd: 60000 }),
      400,
      "max_mjd",
    );
    await assertProblem(
      await post("/coadds", { ra: 1, dec: 2, filter: "r", colour: 1 }),
      400,
      "colour",
    );
    await assertProblem(await post("/coadds", "{not json"), 400, "(body)");
    await assertProblem(await post("/coadds", [1, 2]), 400, "(body)");
    await assertProblem(await post("/coadds", "ra=1", "application/x-www-form-urlencoded"), 415);
    const huge = JSON.stringify({ ra: 1, dec: 2, filter: "r", target: "x".repeat(70000) });
    await assertProblem(await post("/coadds", huge), 413);
    assert.equal(await jobs.depth(), depth0, "nothing queued for a bad request");
  },
});

Deno.test({
  name: "POST /coadds: a queue that fails gives 503 and the job is marked failed",
  ...opts,
  fn: async () => {
    const broken: Queue = Object.assign(Object.create(jobs), {
      send: () => Promise.reject(new Error("queue down")),
    });
    const a = createApp({ db, store, jobs: broken, log });
    const res = await a.request("/coadds", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ra: 10, dec: 10, filter: "i" }),
    });
    await assertProblem(res, 503);
    const rows = await db.query<{ status: number; error: string; finished_at: Date | null }>(
      "SELECT status, error, finished_at FROM jobs WHERE request->>'filter' = 'i'",
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 4);
    assert.match(rows[0].error, /queue down/);
    assert.ok(rows[0].finished_at instanceof Date);
  },
});

Deno.test({
  name: "GET /jobs/:id: 400 for a malformed id, 404 for an unknown one",
  ...opts,
  fn: async () => {
    await assertProblem(await app.request("/jobs/xyz"), 400, "id");
    await assertProblem(await app.request(`/jobs/${crypto.randomUUID()}`), 404);
  },
});

Deno.test({
  name: "GET /exposures: filters, MJD order, paging with next links; 400s",
  ...opts,
  fn: async () => {
    const ids = (b: { items: { id: string }[] }) => b.items.map((x) => x.id);
    const { E1, E2, E3 } = fx.exposures;
    let r = await get(app, `/exposures?target=${target}`);
    assert.equal(r.status, 200);
    assert.deepEqual(ids(r.body), [E1, E2, E3]);
    assert.equal(r.body.next, null);
    r = await get(app, `/exposures?target=${target}&instrument=decam`);
    assert.deepEqual(ids(r.body), [E3]);
    r = await get(app, `/exposures?target=${target}&instrument=simcam&filter=r`);
    assert.deepEqual(ids(r.body), [E1]);
    r = await get(app, `/exposures?target=${target}&min_mjd=60000.5&max_mjd=60010`);
    assert.deepEqual(ids(r.body), [E2, E3]);
    r = await get(app, `/exposures?target=${target}&limit=2`);
    assert.deepEqual(ids(r.body), [E1, E2]);
    assert.equal(r.body.next, `/exposures?target=${target}&limit=2&offset=2`);
    r = await get(app, r.body.next);
    assert.deepEqual(ids(r.body), [E3]);
    assert.equal(r.body.next, null);
    assert.equal(r.body.items[0].mjd, 60002);
    assert.equal(r.body.items[0].links.provenance, `/provenances/${fx.provenances.exposure.id}`);
    await assertProblem(await app.request("/exposures?limit=0"), 400, "limit");
    await assertProblem(await app.request("/exposures?limit=abc"), 400, "limit");
    await assertProblem(await app.request("/exposures?limit=501"), 400, "limit");
    await assertProblem(await app.request("/exposures?min_mjd="), 400, "min_mjd");
    await assertProblem(await app.request("/exposures?colour=red"), 400, "colour");
  },
});

Deno.test({
  name: "GET /exposures/:id: one with its header; 400, 404",
  ...opts,
  fn: async () => {
    const r = await get(app, `/exposures/${fx.exposures.E2}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.filter, "g");
    assert.deepEqual(r.body.header, { OBJECT: target });
    await assertProblem(await app.request("/exposures/12"), 400, "id");
    await assertProblem(await app.request(`/exposures/${crypto.randomUUID()}`), 404);
  },
});

Deno.test({
  name: "GET /images/:id and GET /images (the image query): success, 400, 404",
  ...opts,
  fn: async () => {
    const r = await get(app, `/images/${fx.images.sci}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.id, fx.images.sci);
    assert.equal(r.body.type, "sci");
    assert.deepEqual(r.body.header, { FILTER: "r" });
    assert.equal(r.body.ra_corner_11, 150.1);
    assert.equal(r.body.links.exposure, `/exposures/${fx.exposures.E1}`);
    await assertProblem(await app.request("/images/not-a-uuid"), 400, "id");
    await assertProblem(await app.request(`/images/${crypto.randomUUID()}`), 404);

    const ids = (b: { items: { id: string }[] }) => b.items.map((x) => x.id);
    let q = await get(app, `/images?target=${target}&ra=150.05&dec=2.05&type=diff`);
    assert.equal(q.status, 200);
    assert.deepEqual(ids(q.body), [fx.images.diff1, fx.images.diff2]);
    assert.equal(q.body.items[0].header, undefined, "lists leave headers out");
    q = await get(app, `/images?target=${target}&ra=150.2&dec=2`);
    assert.deepEqual(ids(q.body), []);
    q = await get(app, `/images?target=${target}&order_by=latest&limit=1`);
    assert.deepEqual(ids(q.body), [fx.images.diff2]);
    assert.ok(q.body.next);
    q = await get(app, `/images?exposure_id=${fx.exposures.E1}&type=sci`);
    assert.deepEqual(ids(q.body), [fx.images.sci]);
    const tag = `/images?provenance_tag=api-${target.slice("field-".length)}&filter=r,g`;
    q = await get(app, tag);
    assert.deepEqual(ids(q.body).sort(), [fx.images.sci, fx.images.diff1, fx.images.diff2].sort());
    await assertProblem(await app.request("/images?ra=150"), 400, "dec");
    await assertProblem(await app.request("/images?ra=360&dec=0"), 400, "ra");
    await assertProblem(await app.request("/images?type=raw"), 400, "type");
  },
});

Deno.test({
  name:
    "GET /objects: HEALPix cone + exact distance, radius in arcsec, bad ones only on request; 400s",
  ...opts,
  fn: async () => {
    const { O1, O2, O3 } = fx.objects;
    let r = await get(app, "/objects?ra=150.001&dec=2&radius=10");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items.map((o: { id: string }) => o.id), [O1]);
    assert.ok(r.body.items[0].separation_arcsec < 1e-6);
    r = await get(app, "/objects?ra=150.001&dec=2&radius=10&include_bad=true");
    assert.deepEqual(r.body.items.map((o: { id: string }) => o.id), [O1, O3]);
    assert.ok(Math.abs(r.body.items[1].separation_arcsec - 0.72) < 1e-6);
    r = await get(app, "/objects?ra=150.001&dec=2&radius=37");
    assert.deepEqual(r.body.items.map((o: { id: string }) => o.id), [O1, O2]);
    assert.ok(Math.abs(r.body.items[1].separation_arcsec - 36) < 1e-3);
    r = await get(app, "/objects?ra=150.001&dec=2&radius=35.9");
    assert.deepEqual(r.body.items.map((o: { id: string }) => o.id), [O1]);
    r = await get(app, "/objects?ra=150.001&dec=2&radius=37&limit=1");
    assert.deepEqual(r.body.items.map((o: { id: string }) => o.id), [O1]);
    await assertProblem(await app.request("/objects?ra=150&dec=2&radius=0"), 400, "radius");
    await assertProblem(await app.request("/objects?ra=150&dec=2&radius=3601"), 400, "radius");
    await assertProblem(await app.request("/objects?dec=2&radius=1"), 400, "ra");
    await assertProblem(await app.request("/objects?ra=150&dec=91&radius=1"), 400, "dec");
    const o = await get(app, `/objects/${O2}`);
    assert.equal(o.status, 200);
    assert.equal(o.body.id, O2);
    await assertProblem(await app.request(`/objects/${crypto.randomUUID()}`), 404);
  },
});

Deno.test({
  name: "GET /objects/:id/measurements: by MJD with image, cutout and provenance links; 400, 404",
  ...opts,
  fn: async () => {
    const r = await get(app, `/objects/${fx.objects.O1}/measurements`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items.map((m: { id: string }) => m.id), [
      fx.measurements.m1a,
      fx.measurements.m1b,
    ]);
    const [a, b] = r.body.items;
    assert.deepEqual([a.mjd, b.mjd], [60000, 60001]);
    assert.deepEqual([a.image_id, b.image_id], [fx.images.diff1, fx.images.diff2]);
    assert.equal(a.links.cutout, `/cutouts/${fx.cutouts.c1}.png?index=0`);
    assert.equal(a.provenance_id, fx.provenances.measuring.id);
    assert.deepEqual(a.flux_apertures, [900, 1000]);
    assert.equal(a.mag_psf, 22.5);
    const none = await get(app, `/objects/${fx.objects.O4}/measurements`);
    assert.deepEqual(none.body.items, []);
    await assertProblem(await app.request(`/objects/${crypto.randomUUID()}/measurements`), 404);
    await assertProblem(await app.request("/objects/1/measurements"), 400, "id");
  },
});

Deno.test({
  name:
    "GET /cutouts/:id.png: new | ref | sub side by side, decodes to the stretched stamps; 400, 404",
  ...opts,
  fn: async () => {
    const s = fx.stampSize, gap = 2;
    for (const index of [0, 1]) {
      for (const stretch of ["zscale", "asinh"] as const) {
        const r = await get(app, `/cutouts/${fx.cutouts.c1}.png?index=${index}&stretch=${stretch}`);
        assert.equal(r.status, 200);
        assert.equal(r.type, "image/png");
        const png = await readPng(r.body as Uint8Array);
        assert.ok(png.signatureOk && png.chunks.every((c) => c.crcOk));
        assert.deepEqual([png.width, png.height], [3 * s + 2 * gap, s]);
        const stamps = fx.stamps[index];
        (["new", "ref", "sub"] as const).forEach((k, j) => {
          const want = stretchToBytes(stamps[k], stretch);
          for (let y = 0; y < s; y++) {
            for (let x = 0; x < s; x++) {
              // FITS row 0 is the bottom row of the picture
              assert.equal(
                png.pixels[(s - 1 - y) * png.width + j * (s + gap) + x],
                want[y * s + x],
              );
            }
          }
          if (j < 2) {
            for (let y = 0; y < s; y++) {
              assert.equal(png.pixels[y * png.width + j * (s + gap) + s], 128, "gutter");
            }
          }
        });
      }
    }
    // the brightest pixel of the new stamp (its centre, peak 500) is white under zscale
    const z = await readPng((await get(app, `/cutouts/${fx.cutouts.c1}.png`)).body as Uint8Array);
    assert.equal(z.pixels[4 * z.width + 4], 255);
    const zoomed = await readPng(
      (await get(app, `/cutouts/${fx.cutouts.c2}.png?zoom=3`)).body as Uint8Array,
    );
    assert.deepEqual([zoomed.width, zoomed.height], [3 * (3 * s + 2 * gap), 3 * s]);
    assert.equal(zoomed.pixels[(3 * 4 + 1) * zoomed.width + 3 * 4 + 2], 255);
    await assertProblem(await app.request(`/cutouts/${fx.cutouts.c2}.png?index=1`), 404);
    await assertProblem(await app.request(`/cutouts/${crypto.randomUUID()}.png`), 404);
    await assertProblem(await app.request("/cutouts/abc.png"), 400, "id");
    await assertProblem(await app.request(`/cutouts/${fx.cutouts.c1}.png?index=-1`), 400, "index");
    await assertProblem(
      await app.request(`/cutouts/${fx.cutouts.c1}.png?stretch=log`),
      400,
      "stretch",
    );
    await assertProblem(await app.request(`/cutouts/${fx.cutouts.c1}.png?zoom=9`), 400, "zoom");
  },
});

Deno.test({
  name:
    "GET /provenances/:id: process, code version, parameters, upstreams, downstreams, tags; 400, 404",
  ...opts,
  fn: async () => {
    const p = fx.provenances;
    const r = await get(app, `/provenances/${p.subtraction.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.process, "subtraction");
    assert.equal(r.body.code_version, "1.0.0");
    assert.deepEqual(r.body.parameters, p.subtraction.parameters);
    assert.deepEqual(
      r.body.upstreams.map((u: { id: string; process: string }) => [u.id, u.process]),
      [
        [p.preprocessing.id, "preprocessing"],
      ],
    );
    assert.deepEqual(r.body.downstreams.map((u: { id: string }) => u.id), [p.measuring.id]);
    assert.deepEqual(r.body.tags, [`api-${target.slice("field-".length)}`]);
    await assertProblem(await app.request("/provenances/abc"), 400, "id");
    await assertProblem(await app.request(`/provenances/${"A".repeat(20)}`), 404);
  },
});

Deno.test({
  name: "GET /health: 200 when db, store and queue answer; 503 naming the one that does not",
  ...opts,
  fn: async () => {
    const ok = await get(app, "/health");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, "ok");
    assert.deepEqual(
      [ok.body.checks.db.ok, ok.body.checks.store.ok, ok.body.checks.queue.ok],
      [true, true, true],
    );
    assert.equal(ok.body.checks.db.kind, "pglite");
    const badStore: ObjectStore = Object.assign(Object.create(store), {
      head: () => Promise.reject(new Error("store unreachable")),
    });
    const down = await get(createApp({ db, store: badStore, jobs, log }), "/health");
    assert.equal(down.status, 503);
    assert.equal(down.body.status, "unavailable");
    assert.equal(down.body.checks.store.ok, false);
    assert.equal(down.body.checks.store.error, "store unreachable");
    assert.equal(down.body.checks.db.ok, true);
  },
});

Deno.test({
  name: "createApp: unknown routes are 404 problems; unexpected errors 500 problems, logged",
  ...opts,
  fn: async () => {
    const p = await assertProblem(await app.request("/nothing/here"), 404);
    assert.equal(p.instance, "/nothing/here");
    const failing = createApp({
      db,
      store,
      jobs,
      log,
      cutouts: () => Promise.reject(new Error("disk on fire")),
    });
    const e = await assertProblem(await failing.request(`/cutouts/${fx.cutouts.c1}.png`), 500);
    assert.equal(e.detail, "internal error");
    assert.ok(logLines.some((l) => l.includes("disk on fire")));
  },
});

Deno.test({
  name: "app_test teardown",
  ...opts,
  fn: async () => {
    await db.close();
    await Deno.remove(root, { recursive: true });
  },
});
