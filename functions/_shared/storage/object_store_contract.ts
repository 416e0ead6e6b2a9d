/**
 * The contract every {@linkcode ObjectStore} adapter passes, as Deno tests:
 * `objectStoreContract("fs", open)` registers them. With `open === null` the tests
 * are registered as ignored (their label says why).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ChecksumMismatch, ObjectNotFound, type ObjectStore } from "./object_store.ts";
import { md5Hex } from "./md5.ts";

/** A store opened for one test, with what to do after it. */
export interface StoreHandle {
  store: ObjectStore;
  /** Releases the store and removes what the test left. */
  close(): Promise<void>;
}

/** Options of {@linkcode objectStoreContract}. */
export interface ContractOptions {
  /** Size of the large-object round trip (multipart on S3). @default 40 MiB */
  largeBytes?: number;
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Registers the object-store contract tests for one adapter. */
export function objectStoreContract(
  label: string,
  open: (() => Promise<StoreHandle>) | null,
  options: ContractOptions = {},
): void {
  const largeBytes = options.largeBytes ?? 40 * 1024 * 1024;
  const test = (what: string, fn: (store: ObjectStore) => Promise<void>) =>
    Deno.test({
      name: `object store contract [${label}]: ${what}`,
      ignore: open === null,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const handle = await open!();
        try {
          await fn(handle.store);
        } finally {
          await handle.close();
        }
      },
    });

  test("put returns size and MD5; head and get give them back", async (store) => {
    const data = patternBytes(100_000, 7);
    const info = await store.put("rt/one.fits", data, { contentType: "application/fits" });
    assert.deepEqual(info, { key: "rt/one.fits", size: data.length, md5: md5Hex(data) });
    assert.deepEqual(await store.head("rt/one.fits"), info);
    assert.ok(sameBytes(await store.get("rt/one.fits"), data));
  });

  test("an empty object round-trips with the MD5 of no bytes", async (store) => {
    const info = await store.put("rt/empty", new Uint8Array(0));
    assert.equal(info.md5, "d41d8cd98f00b204e9800998ecf8427e");
    assert.deepEqual(await store.head("rt/empty"), info);
    assert.equal((await store.get("rt/empty")).length, 0);
  });

  test("a missing key: get throws ObjectNotFound, head is null, delete is fine", async (store) => {
    await assert.rejects(store.get("no/such/key"), ObjectNotFound);
    await assert.rejects(
      store.get("no/such/key", { range: { offset: 0, length: 4 } }),
      ObjectNotFound,
    );
    assert.equal(await store.head("no/such/key"), null);
    await store.delete("no/such/key");
  });

  test("delete removes the object", async (store) => {
    await store.put("del/x", patternBytes(10));
    await store.delete("del/x");
    assert.equal(await store.head("del/x"), null);
    await assert.rejects(store.get("del/x"), ObjectNotFound);
    assert.deepEqual(await collect(store.list("del/")), []);
  });

  test("list gives the keys under a prefix in lexical order", async (store) => {
    const keys = ["ls/a/1", "ls/a/2", "ls/a/10", "ls/b/1", "ls/a-x", "ls/a/sub/deep"];
    for (const k of keys) await store.put(k, new TextEncoder().encode(k));
    assert.deepEqual(await collect(store.list("ls/a/")), [
      "ls/a/1",
      "ls/a/10",
      "ls/a/2",
      "ls/a/sub/deep",
    ]);
    // "-" (0x2d) sorts before "/" (0x2f).
    assert.deepEqual(await collect(store.list("ls/a")), [
      "ls/a-x",
      "ls/a/1",
      "ls/a/10",
      "ls/a/2",
      "ls/a/sub/deep",
    ]);
    assert.deepEqual(await collect(store.list("ls/")), [...keys].sort());
    assert.deepEqual(await collect(store.list("ls/a/1")), ["ls/a/1", "ls/a/10"]);
    assert.deepEqual(await collect(store.list("ls/zzz/")), []);
  });

  test("ranged reads return exactly the bytes asked, clamped at the end", async (store) => {
    const data = patternBytes(1000, 3);
    await store.put("range/obj", data);
    for (const [offset, length] of [[0, 1], [10, 100], [999, 1], [0, 1000], [500, 250]]) {
      const got = await store.get("range/obj", { range: { offset, length } });
      assert.ok(sameBytes(got, data.subarray(offset, offset + length)), `${offset}+${length}`);
    }
    const tail = await store.get("range/obj", { range: { offset: 990, length: 100 } });
    assert.ok(sameBytes(tail, data.subarray(990)));
    await assert.rejects(
      store.get("range/obj", { range: { offset: 1000, length: 1 } }),
      RangeError,
    );
    await assert.rejects(store.get("range/obj", { range: { offset: 0, length: 0 } }), RangeError);
  });

  test("get with the wrong MD5 throws ChecksumMismatch; the right one passes", async (store) => {
    const data = patternBytes(5000, 11);
    const info = await store.put("md5/obj", data);
    const wrong = md5Hex(patternBytes(5000, 12));
    const err = await store.get("md5/obj", { md5: wrong }).then(() => null, (e) => e);
    assert.ok(err instanceof ChecksumMismatch, `expected ChecksumMismatch, got ${err}`);
    assert.equal(err.expected, wrong);
    assert.equal(err.actual, info.md5);
    assert.ok(sameBytes(await store.get("md5/obj", { md5: info.md5.toUpperCase() }), data));
  });

  test("overwrite is atomic: readers see the old or the new object, never a mix", async (store) => {
    const n = 1 << 20;
    const v1 = new Uint8Array(n).fill(1);
    const v2 = new Uint8Array(n).fill(2);
    await store.put("atomic/obj", v1);
    let writing = true;
    const seen = new Set<string>();
    const reader = async () => {
      while (writing) {
        const got = await store.get("atomic/obj");
        assert.equal(got.length, n);
        const first = got[0];
        assert.ok(first === 1 || first === 2, `byte ${first}`);
        assert.ok(got.every((b) => b === first), "a read mixed two versions");
        seen.add(String(first));
      }
    };
    const readers = [reader(), reader()];
    for (let i = 0; i < 6; i++) await store.put("atomic/obj", i % 2 === 0 ? v2 : v1);
    await store.put("atomic/obj", v2);
    writing = false;
    await Promise.all(readers);
    assert.ok(seen.size >= 1);
    assert.equal((await store.head("atomic/obj"))?.md5, md5Hex(v2));
    assert.ok(sameBytes(await store.get("atomic/obj"), v2));
  });

  test(`a large object (${largeBytes >> 20} MiB) round-trips with its MD5`, async (store) => {
    const data = patternBytes(largeBytes, 42);
    const md5 = md5Hex(data);
    const info = await store.put("large/obj", data);
    assert.deepEqual(info, { key: "large/obj", size: largeBytes, md5 });
    assert.deepEqual(await store.head("large/obj"), info);
    const back = await store.get("large/obj", { md5 });
    assert.equal(back.length, largeBytes);
    assert.ok(sameBytes(back, data));
    // A range that straddles the 16 MiB part boundary.
    const at = 16 * 1024 * 1024 - 10;
    const piece = await store.get("large/obj", { range: { offset: at, length: 20 } });
    assert.ok(sameBytes(piece, data.subarray(at, at + 20)));
    await store.delete("large/obj");
  });

  test("invalid keys are refused", async (store) => {
    for (const key of ["", "/abs", "a//b", "a/../b", "./a", "a/.skydiff-meta/b"]) {
      await assert.rejects(store.put(key, new Uint8Array(1)), Error, JSON.stringify(key));
    }
  });
}
