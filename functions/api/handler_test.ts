/**
 * apiGatewayHandler on API Gateway HTTP API (2.0) and REST (1.0) events over
 * PGlite + fs store + in-process queue: JSON, problem details, a POST with a
 * body, and a PNG returned base64-encoded.
 */
import assert from "node:assert/strict";
import { openMigratedPglite } from "../_shared/db/testing.ts";
import { Logger } from "../_shared/log.ts";
import { MemoryQueue } from "../_shared/queue/memory_queue.ts";
import { FsObjectStore } from "../_shared/storage/fs_store.ts";
import { seedFixture } from "./_fixture.ts";
import { readPng } from "./_png_read.ts";
import { apiGatewayHandler, isApiGatewayEvent } from "./handler.ts";

function v2(method: string, path: string, query = "", body?: string) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: query,
    headers: { host: "api.example", "content-type": "application/json" },
    requestContext: {
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
      domainName: "api.example",
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      accountId: "123456789012",
      apiId: "api",
      domainPrefix: "api",
      time: "22/Nov/2026:00:00:00 +0000",
      timeEpoch: 0,
    },
    isBase64Encoded: false,
    ...(body !== undefined ? { body } : {}),
  };
}

Deno.test("isApiGatewayEvent: HTTP API and REST events yes; SQS, S3, junk no", () => {
  assert.equal(isApiGatewayEvent(v2("GET", "/health")), true);
  assert.equal(
    isApiGatewayEvent({ httpMethod: "GET", path: "/health", requestContext: {}, headers: {} }),
    true,
  );
  assert.equal(isApiGatewayEvent({ Records: [{ eventSource: "aws:sqs" }] }), false);
  assert.equal(isApiGatewayEvent({ Records: [{ eventSource: "aws:s3" }] }), false);
  assert.equal(isApiGatewayEvent(null), false);
  assert.equal(isApiGatewayEvent("GET /"), false);
});

Deno.test({
  name: "apiGatewayHandler: JSON, problem details, POST bodies and base64 PNGs",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const db = await openMigratedPglite();
    const root = await Deno.makeTempDir({ prefix: "skydiff_apigw_" });
    try {
      const store = new FsObjectStore({ root, fsync: false });
      const jobs = new MemoryQueue(`apigw-${crypto.randomUUID()}`);
      const fx = await seedFixture(db, store);
      const handler = apiGatewayHandler({
        db,
        store,
        jobs,
        log: new Logger({}, "error", () => {}),
      });

      const health = await handler(v2("GET", "/health"));
      assert.equal(health.statusCode, 200);
      assert.equal(health.isBase64Encoded, false);
      assert.equal(JSON.parse(health.body).status, "ok");

      const cone = await handler(v2("GET", "/objects", "ra=150.001&dec=2&radius=37"));
      assert.deepEqual(JSON.parse(cone.body).items.map((o: { id: string }) => o.id), [
        fx.objects.O1,
        fx.objects.O2,
      ]);

      const bad = await handler(v2("GET", "/objects", "ra=150&dec=2&radius=-1"));
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.headers?.["content-type"], "application/problem+json");
      assert.equal(JSON.parse(bad.body).field, "radius");

      const posted = await handler(
        v2("POST", "/coadds", "", JSON.stringify({ ra: 1, dec: 2, filter: "r" })),
      );
      assert.equal(posted.statusCode, 202);
      assert.equal(await jobs.depth(), 1);

      const png = await handler(v2("GET", `/cutouts/${fx.cutouts.c1}.png`, "index=1"));
      assert.equal(png.statusCode, 200);
      assert.equal(png.isBase64Encoded, true);
      const decoded = await readPng(Uint8Array.from(atob(png.body), (ch) => ch.charCodeAt(0)));
      assert.ok(decoded.signatureOk && decoded.chunks.every((c) => c.crcOk));
      assert.deepEqual([decoded.width, decoded.height], [3 * fx.stampSize + 4, fx.stampSize]);

      const rest = await handler({
        resource: "/{proxy+}",
        path: `/provenances/${fx.provenances.subtraction.id}`,
        httpMethod: "GET",
        headers: { host: "api.example" },
        multiValueHeaders: { host: ["api.example"] },
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        requestContext: {
          httpMethod: "GET",
          path: "/prod/provenances",
          requestId: "r",
          stage: "prod",
        },
        body: null,
        isBase64Encoded: false,
      });
      assert.equal(rest.statusCode, 200);
      assert.equal(JSON.parse(rest.body).process, "subtraction");
    } finally {
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
