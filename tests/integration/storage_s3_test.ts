/**
 * The object-store contract against the real S3-compatible server that
 * scripts/services.sh started (MinIO, or versitygw), plus S3-specific checks.
 */
import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { S3ObjectStore } from "../../functions/_shared/storage/s3_store.ts";
import { ChecksumMismatch } from "../../functions/_shared/storage/object_store.ts";
import { md5Hex } from "../../functions/_shared/storage/md5.ts";
import {
  objectStoreContract,
  patternBytes,
} from "../../functions/_shared/storage/object_store_contract.ts";
import { requireService, serviceLabel } from "../services.ts";

const s3 = requireService("s3");
const label = serviceLabel("s3", s3);

function openStore(extra: { partSize?: number } = {}): S3ObjectStore {
  return new S3ObjectStore({
    bucket: s3!.bucket,
    endpoint: s3!.endpoint,
    accessKeyId: s3!.accessKeyId,
    secretAccessKey: s3!.secretAccessKey,
    // Every test writes under its own prefix, so runs never see each other's keys.
    prefix: `test-${crypto.randomUUID()}/`,
    ...extra,
  });
}

async function emptyAndClose(store: S3ObjectStore): Promise<void> {
  for await (const key of store.list("")) await store.delete(key);
  store.close();
}

objectStoreContract(
  label,
  s3 && (() => {
    const store = openStore();
    return Promise.resolve({ store, close: () => emptyAndClose(store) });
  }),
);

Deno.test({
  name:
    `S3ObjectStore.put [${label}]: a body corrupted in flight is refused by the server's digest check`,
  ignore: !s3,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const store = openStore();
    try {
      // Flip a byte of the request body after the adapter computed its MD5 (and the
      // SDK its payload SHA-256): MinIO answers BadDigest, versitygw a SHA-256 mismatch.
      store.client.middlewareStack.add((next) => (args) => {
        const req = args.request as { body?: unknown };
        if (req.body instanceof Uint8Array && req.body.length > 0) {
          const copy = req.body.slice();
          copy[0] ^= 0xff;
          req.body = copy;
        }
        return next(args);
      }, { step: "finalizeRequest", name: "corruptBody" });
      await assert.rejects(store.put("corrupt/obj", patternBytes(1000, 9)), (e: Error) => {
        assert.match(
          `${e.name} ${e.message}`,
          /BadDigest|InvalidDigest|Content-MD5|SHA256Mismatch/i,
        );
        return true;
      });
      store.client.middlewareStack.remove("corruptBody");
      assert.equal(await store.head("corrupt/obj"), null);
    } finally {
      await emptyAndClose(store);
    }
  },
});

Deno.test({
  name: `S3ObjectStore.get [${label}]: bytes that differ from the stored md5 metadata throw`,
  ignore: !s3,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const store = openStore();
    try {
      const good = patternBytes(2000, 1);
      const bad = patternBytes(2000, 2);
      // Simulate rot at rest: other bytes under the same key, with the old md5 metadata.
      await store.client.send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: `${store.prefix}rot/obj`,
          Body: bad,
          Metadata: { md5: md5Hex(good) },
        }),
      );
      const err = await store.get("rot/obj").then(() => null, (e) => e);
      assert.ok(err instanceof ChecksumMismatch, `expected ChecksumMismatch, got ${err}`);
      assert.equal(err.actual, md5Hex(bad));
    } finally {
      await emptyAndClose(store);
    }
  },
});

Deno.test({
  name: `S3ObjectStore.put [${label}]: a multipart upload stores the whole-object MD5 in metadata`,
  ignore: !s3,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const store = openStore({ partSize: 5 * 1024 * 1024 });
    try {
      const data = patternBytes(12 * 1024 * 1024 + 17, 4); // three parts, the last short
      const info = await store.put("mp/obj", data);
      assert.equal(info.md5, md5Hex(data));
      assert.deepEqual(await store.head("mp/obj"), info);
      const back = await store.get("mp/obj");
      assert.equal(md5Hex(back), info.md5);
    } finally {
      await emptyAndClose(store);
    }
  },
});
