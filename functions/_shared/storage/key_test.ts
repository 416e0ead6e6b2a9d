import assert from "node:assert/strict";
import { checkKey, checkPrefix, InvalidKey } from "./key.ts";

Deno.test("checkKey accepts product keys and refuses unsafe ones", () => {
  for (const ok of ["a", "images/2026/abc.fits", "a-b_c.d/e f"]) assert.equal(checkKey(ok), ok);
  for (
    const bad of ["", "/a", "a/", "a//b", "a/./b", "a/../b", "..", "a\u0000b", ".skydiff-tmp/x"]
  ) {
    assert.throws(() => checkKey(bad), InvalidKey, JSON.stringify(bad));
  }
  assert.throws(() => checkKey("x".repeat(1025)), InvalidKey);
});

Deno.test("checkPrefix allows empty and trailing-slash prefixes", () => {
  assert.equal(checkPrefix(""), "");
  assert.equal(checkPrefix("a/b/"), "a/b/");
  assert.equal(checkPrefix("a/b"), "a/b");
  assert.throws(() => checkPrefix("/"), InvalidKey);
  assert.throws(() => checkPrefix("../"), InvalidKey);
});
