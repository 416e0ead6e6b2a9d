/**
 * The HTTP API served by a real `Deno.serve` on an ephemeral port, over the real
 * Postgres 15 of scripts/services.sh (a scratch database, migrated, dropped
 * after), the Postgres jobs queue on it, and the real S3-compatible server
 * (MinIO) for cutout files: every endpoint's success and its 400 / 404 over HTTP.
 */
import assert from "node:assert/strict";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { PostgresQueue } from "../../functions/_shared/queue/postgres_queue.ts";
import { S3ObjectStore } from "../../functions/_shared/storage/s3_store.ts";
import { seedFixture } from "../../functions/api/_fixture.ts";
import { readPng } from "../../functions/api/_png_read.ts";
import { JobMessageSchema } from "../../functions/api/jobs.ts";
import { serveApi } from "../../functions/api/serve.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");
const s3 = requireService("s3");

Deno.test({
  name: `serveApi over HTTP [${serviceLabel("postgres", pg)}; ${
    serviceLabel("s3", s3)
  }]: every endpoint, success and 400 / 404`,
  ignore: !pg || !s3,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await openScratchPostgres(pg!.url, { poolSize: 4 });
    const store = new S3ObjectStore({
      bucket: s3!.bucket,
      endpoint: s3!.endpoint,
      accessKeyId: s3!.accessKeyId,
      secretAccessKey: s3!.secretAccessKey,
      prefix: `api-test-${crypto.randomUUID()}/`,
    });
    const jobs = new PostgresQueue(db, "api-test-jobs", { visibilitySeconds: 60 });
    const stop = new AbortController();
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      await migrate(db);
      const fx = await seedFixture(db, store);
      const lines: string[] = [];
      const log = new Logger({}, "info", (l) => lines.push(l));
      const listening = Promise.withResolvers<Deno.NetAddr>();
      server = serveApi({ db, store, jobs, log }, {
        port: 0,
        signal: stop.signal,
        onListen: listening.resolve,
      });
      const addr = await listening.promise;
      const base = `http://127.0.0.1:${addr.port}`;
      const call = async (path: string, init?: RequestInit) => {
        const res = await fetch(base + path, init);
        const type = res.headers.get("content-type") ?? "";
        const body = type.includes("json")
          ? await res.json()
          : new Uint8Array(await res.arrayBuffer());
        return { status: res.status, type, body, headers: res.headers };
      };
      const problem = async (path: string, status: number, field?: string, init?: RequestInit) => {
        const r = await call(path, init);
        assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.type, "application/problem+json", path);
        assert.equal(r.body.status, status);
        assert.equal(r.body.instance, path.split("?")[0]);
        if (field !== undefined) assert.equal(r.body.field, field, path);
      };
      const json = (body: unknown): RequestInit => ({
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

      // health
      const health = await call("/health");
      assert.equal(health.status, 200, JSON.stringify(health.body));
      assert.equal(health.body.checks.db.kind, "postgres");
      assert.equal(health.body.checks.store.kind, "s3");
      assert.equal(health.body.checks.queue.kind, "postgres");

      // jobs: POST -> row + message on the Postgres queue -> GET
      const created = await call("/coadds", json({ ra: 150, dec: 2, filter: "r" }));
      assert.equal(created.status, 202);
      assert.equal(created.headers.get("location"), `/jobs/${created.body.id}`);
      const [msg] = await jobs.receive({ max: 5 });
      assert.equal(JobMessageSchema.parse(JSON.parse(msg.body)).job_id, created.body.id);
      await jobs.ack(msg);
      const job = await call(`/jobs/${created.body.id}`);
      assert.equal(job.status, 200);
      assert.equal(job.body.status, "queued");
      const ref = await call(
        "/references",
        json({ ra: 0.5, dec: -1, filter: "g", refset: "rs", min_mjd: 1, max_mjd: 2 }),
      );
      assert.equal(ref.status, 202);
      assert.equal(ref.body.kind, "reference");
      await problem("/coadds", 400, "dec", json({ ra: 150, dec: 95, filter: "r" }));
      await problem("/references", 400, "refset", json({ ra: 150, dec: 2, filter: "r" }));
      await problem("/jobs/nope", 400, "id");
      await problem(`/jobs/${crypto.randomUUID()}`, 404);

      // exposures
      const target = (await call(`/exposures/${fx.exposures.E1}`)).body.target;
      const ex = await call(`/exposures?target=${target}&limit=2`);
      assert.deepEqual(ex.body.items.map((e: { id: string }) => e.id), [
        fx.exposures.E1,
        fx.exposures.E2,
      ]);
      assert.deepEqual(
        (await call(ex.body.next)).body.items.map((e: { id: string }) => e.id),
        [fx.exposures.E3],
      );
      await problem("/exposures?max_mjd=soon", 400, "max_mjd");
      await problem(`/exposures/${crypto.randomUUID()}`, 404);

      // images
      const img = await call(`/images/${fx.images.sci}`);
      assert.equal(img.status, 200);
      assert.equal(img.body.type, "sci");
      const found = await call(`/images?target=${target}&ra=149.95&dec=1.95&type=diff`);
      assert.deepEqual(found.body.items.map((i: { id: string }) => i.id), [
        fx.images.diff1,
        fx.images.diff2,
      ]);
      await problem("/images?dec=2", 400, "dec");
      await problem(`/images/${crypto.randomUUID()}`, 404);

      // objects and measurements
      const cone = await call("/objects?ra=150.001&dec=2&radius=37");
      assert.deepEqual(cone.body.items.map((o: { id: string }) => o.id), [
        fx.objects.O1,
        fx.objects.O2,
      ]);
      assert.ok(Math.abs(cone.body.items[1].separation_arcsec - 36) < 1e-3);
      await problem("/objects?ra=150&dec=2&radius=7200", 400, "radius");
      const ms = await call(`/objects/${fx.objects.O1}/measurements`);
      assert.deepEqual(ms.body.items.map((m: { mjd: number }) => m.mjd), [60000, 60001]);
      await problem(`/objects/${crypto.randomUUID()}/measurements`, 404);

      // cutouts: the link of a measurement, read from the S3 server with ranged GETs
      const png = await call(ms.body.items[0].links.cutout);
      assert.equal(png.status, 200);
      assert.equal(png.type, "image/png");
      const decoded = await readPng(png.body as Uint8Array);
      assert.ok(decoded.signatureOk && decoded.chunks.every((c) => c.crcOk));
      assert.deepEqual([decoded.width, decoded.height], [3 * fx.stampSize + 4, fx.stampSize]);
      assert.equal(decoded.pixels[4 * decoded.width + 4], 255, "the new stamp's peak is white");
      await problem(`/cutouts/${fx.cutouts.c1}.png?index=2`, 404);
      await problem("/cutouts/zzz.png", 400, "id");

      // provenances
      const prov = await call(`/provenances/${fx.provenances.preprocessing.id}`);
      assert.equal(prov.body.process, "preprocessing");
      assert.deepEqual(prov.body.upstreams.map((u: { id: string }) => u.id), [
        fx.provenances.exposure.id,
      ]);
      assert.deepEqual(prov.body.downstreams.map((u: { id: string }) => u.id), [
        fx.provenances.subtraction.id,
      ]);
      await problem("/provenances/short", 400, "id");
      await problem(`/provenances/${"B".repeat(20)}`, 404);
      await problem("/no/such/route", 404);
      assert.deepEqual(lines.filter((l) => l.includes('"error"')), [], "no unexpected errors");
    } finally {
      stop.abort();
      await server?.finished;
      await jobs.close();
      for await (const key of store.list("")) await store.delete(key);
      store.close();
      await db.close();
    }
  },
});
