import assert from "node:assert/strict";
import { join } from "node:path";
import { ChecksumMismatch } from "./object_store.ts";
import { FsObjectStore } from "./fs_store.ts";
import { md5Hex } from "./md5.ts";
import { objectStoreContract, patternBytes } from "./object_store_contract.ts";

objectStoreContract("fs local directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "skydiff-fs-store-" });
  return {
    store: new FsObjectStore({ root }),
    close: () => Deno.remove(root, { recursive: true }),
  };
});

async function withStore(fn: (store: FsObjectStore, root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "skydiff-fs-store-" });
  try {
    await fn(new FsObjectStore({ root }), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("FsObjectStore.get detects bytes changed in place after the write", async () => {
  await withStore(async (store, root) => {
    const data = patternBytes(4096, 5);
    await store.put("img/a.fits", data);
    // Flip one byte in place (same inode, same size) and keep the mtime the sidecar saw.
    const path = join(root, "img/a.fits");
    const before = await Deno.stat(path);
    const file = await Deno.open(path, { write: true });
    await file.seek(100, Deno.SeekMode.Start);
    await file.write(new Uint8Array([data[100] ^ 0xff]));
    file.close();
    await Deno.utime(path, before.atime!, before.mtime!);
    const err = await store.get("img/a.fits").then(() => null, (e) => e);
    assert.ok(err instanceof ChecksumMismatch, `expected ChecksumMismatch, got ${err}`);
    assert.equal(err.expected, md5Hex(data));
  });
});

Deno.test("FsObjectStore.head recomputes the MD5 when the sidecar does not describe the file", async () => {
  await withStore(async (store, root) => {
    await store.put("k", patternBytes(1000, 1));
    // Replace the file behind the store's back: new inode, so the sidecar is not trusted.
    const other = patternBytes(1000, 2);
    await Deno.writeFile(join(root, "k.new"), other);
    await Deno.rename(join(root, "k.new"), join(root, "k"));
    assert.equal((await store.head("k"))?.md5, md5Hex(other));
    await Deno.remove(join(root, ".skydiff-meta"), { recursive: true });
    assert.equal((await store.head("k"))?.md5, md5Hex(other));
  });
});

Deno.test("FsObjectStore.list skips its own metadata and temporary files", async () => {
  await withStore(async (store) => {
    await store.put("a/b", new Uint8Array([1]));
    const keys: string[] = [];
    for await (const k of store.list("")) keys.push(k);
    assert.deepEqual(keys, ["a/b"]);
  });
});

Deno.test("FsObjectStore.delete prunes directories it emptied", async () => {
  await withStore(async (store, root) => {
    await store.put("x/y/z", new Uint8Array([1]));
    await store.put("x/keep", new Uint8Array([2]));
    await store.delete("x/y/z");
    await assert.rejects(Deno.stat(join(root, "x/y")), Deno.errors.NotFound);
    assert.ok((await Deno.stat(join(root, "x"))).isDirectory);
  });
});
