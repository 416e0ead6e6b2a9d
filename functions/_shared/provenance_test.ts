import assert from "node:assert/strict";
import {
  base32,
  canonicalJson,
  majorMinor,
  provenanceDocument,
  provenanceId,
} from "./provenance.ts";

const fixed = {
  process: "extraction",
  codeVersion: "1.2.0",
  parameters: { threshold: 3.5, apertures: [1, 2, 3, 5], method: "sep", name: "é\u2028" },
  upstreams: ["ZZZZ", "AAAA"],
};

Deno.test("provenanceId pins a fixed provenance (value computed independently with Python hashlib)", async () => {
  assert.equal(await provenanceId(fixed), "4BN4LIF6GDVLR2WEN36W");
});

Deno.test("provenanceId ignores a patch bump and changes with a minor bump", async () => {
  const base = await provenanceId(fixed);
  assert.equal(await provenanceId({ ...fixed, codeVersion: "1.2.7" }), base);
  assert.equal(await provenanceId({ ...fixed, codeVersion: "1.3.0" }), "HKRLUFB5V2FUJGJK43U3");
  assert.notEqual(await provenanceId({ ...fixed, codeVersion: "2.2.0" }), base);
});

Deno.test("provenanceId does not depend on upstream order or key order, but on values", async () => {
  const base = await provenanceId(fixed);
  assert.equal(
    await provenanceId({
      ...fixed,
      upstreams: ["AAAA", "ZZZZ"],
      parameters: { name: "é\u2028", method: "sep", apertures: [1, 2, 3, 5], threshold: 3.5 },
    }),
    base,
  );
  assert.notEqual(
    await provenanceId({ ...fixed, parameters: { ...fixed.parameters, threshold: 3 } }),
    base,
  );
  assert.notEqual(await provenanceId({ ...fixed, upstreams: ["AAAA"] }), base);
});

Deno.test("canonicalJson follows RFC 8785 for keys, numbers and strings", () => {
  assert.equal(
    canonicalJson({ b: 1, a: [true, null, "x"], "\u00e9": 2, A: 0 }),
    '{"A":0,"a":[true,null,"x"],"b":1,"é":2}',
  );
  assert.equal(
    canonicalJson({ n: [1.0, 1e21, 1e-7, -0, 0.1 + 0.2] }),
    '{"n":[1,1e+21,1e-7,0,0.30000000000000004]}',
  );
  assert.equal(canonicalJson({ s: 'q"\\\n\u0001' }), '{"s":"q\\"\\\\\\n\\u0001"}');
  // keys sort by UTF-16 code units: U+10000 (surrogate D800) sorts before U+FB33
  assert.equal(canonicalJson({ "\ufb33": 1, "\u{10000}": 2 }), '{"\u{10000}":2,"\ufb33":1}');
  assert.throws(() => canonicalJson({ x: NaN }));
  assert.throws(() => canonicalJson({ x: 1n }));
});

Deno.test("base32 matches the RFC 4648 test vectors", () => {
  const enc = (s: string) => base32(new TextEncoder().encode(s));
  assert.equal(enc(""), "");
  assert.equal(enc("f"), "MY");
  assert.equal(enc("fo"), "MZXQ");
  assert.equal(enc("foo"), "MZXW6");
  assert.equal(enc("foob"), "MZXW6YQ");
  assert.equal(enc("fooba"), "MZXW6YTB");
  assert.equal(enc("foobar"), "MZXW6YTBOI");
});

Deno.test("majorMinor keeps MAJOR.MINOR and rejects non-semver", () => {
  assert.equal(majorMinor("3.14.159"), "3.14");
  assert.equal(majorMinor("1.0.0-rc.1"), "1.0");
  assert.throws(() => majorMinor("1.0"));
});

Deno.test("provenanceDocument sorts and deduplicates upstreams", () => {
  const doc = JSON.parse(provenanceDocument({ ...fixed, upstreams: ["B", "A", "B"] }));
  assert.deepEqual(doc.upstreams, ["A", "B"]);
  assert.equal(doc.code_version, "1.2");
});
