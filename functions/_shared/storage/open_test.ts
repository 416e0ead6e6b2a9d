import assert from "node:assert/strict";
import { openObjectStore } from "./open.ts";
import { FsObjectStore } from "./fs_store.ts";
import { S3ObjectStore } from "./s3_store.ts";

Deno.test("openObjectStore builds the adapter its config names, with defaults", () => {
  const fs = openObjectStore({ kind: "fs", root: "/tmp/x" });
  assert.ok(fs instanceof FsObjectStore);
  assert.equal(fs.root, "/tmp/x");
  const s3 = openObjectStore({ kind: "s3", bucket: "b", endpoint: "http://127.0.0.1:1" });
  assert.ok(s3 instanceof S3ObjectStore);
  assert.equal(s3.partSize, 16 * 1024 * 1024);
  assert.equal(s3.prefix, "");
  s3.close();
});

Deno.test("openObjectStore refuses unknown kinds, unknown keys and small parts", () => {
  // deno-lint-ignore no-explicit-any
  const bad: any[] = [
    { kind: "gcs", bucket: "b" },
    { kind: "fs", root: "/tmp/x", bucket: "b" },
    { kind: "s3", bucket: "b", partSize: 1024 },
    { kind: "s3" },
  ];
  for (const config of bad) assert.throws(() => openObjectStore(config), JSON.stringify(config));
});
