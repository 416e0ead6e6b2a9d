import assert from "node:assert/strict";
import { coaddImageId, componentsHash } from "./coadds.ts";

Deno.test("componentsHash: sha256 hex of the sorted distinct ids, order-independent", async () => {
  const a = "0b7e4c4e-2b1a-4d5e-9f00-000000000001", b = "0b7e4c4e-2b1a-4d5e-9f00-000000000002";
  const h = await componentsHash([b, a, b]);
  assert.equal(h, await componentsHash([a, b]));
  assert.match(h, /^[0-9a-f]{64}$/);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${a}\n${b}`));
  const want = Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, "0")).join("");
  assert.equal(h, want);
  assert.notEqual(h, await componentsHash([a]));
});

Deno.test("coaddImageId: a deterministic UUID per (hash, provenance)", async () => {
  const h = await componentsHash(["x"]);
  const id = await coaddImageId(h, "PROVENANCE0000000001");
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(id, await coaddImageId(h, "PROVENANCE0000000001"));
  assert.notEqual(id, await coaddImageId(h, "PROVENANCE0000000002"));
});
