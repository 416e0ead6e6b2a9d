import assert from "node:assert/strict";
import { isMd5Hex, md5Base64, md5Hex, md5Raw } from "./md5.ts";

Deno.test("md5Hex matches the RFC 1321 test suite", () => {
  const enc = new TextEncoder();
  const cases: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
  ];
  for (const [input, md5] of cases) {
    assert.equal(md5Hex(enc.encode(input)), md5);
    assert.ok(isMd5Hex(md5));
  }
  assert.equal(md5Base64(enc.encode("abc")), "kAFQmDzST7DWlj99KOF/cg==");
  assert.equal(md5Raw(enc.encode("abc")).length, 16);
});
