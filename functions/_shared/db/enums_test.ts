import assert from "node:assert/strict";
import { PROCESSES } from "../processes.ts";
import {
  BADNESS,
  BITFLAGS,
  bitsToNames,
  enumCode,
  enumName,
  ENUMS,
  IMAGE_TYPE,
  namesToBits,
  orBits,
  PIXEL_FLAGS,
  PROCESS,
} from "./enums.ts";

Deno.test("enums: every process has a code, names and codes are unique", () => {
  for (const p of PROCESSES) assert.equal(enumName(PROCESS, enumCode(PROCESS, p)), p);
  for (const [name, map] of Object.entries({ ...ENUMS, ...BITFLAGS })) {
    const names = Object.values(map);
    assert.equal(new Set(names).size, names.length, `${name} has a duplicate name`);
    for (const code of Object.keys(map).map(Number)) {
      assert.ok(Number.isInteger(code) && code >= 0 && code < 32768, `${name} code ${code}`);
    }
  }
  // codes the SQL relies on (sql/0001_schema.sql)
  assert.equal(enumCode(PROCESS, "referencing"), 14);
  assert.deepStrictEqual(
    ["comsci", "comdiff"].map((n) => enumCode(IMAGE_TYPE, n)),
    [2, 4],
  );
  assert.deepStrictEqual(["diff", "comdiff"].map((n) => enumCode(IMAGE_TYPE, n)), [3, 4]);
  assert.throws(() => enumName(PROCESS, 99), /unknown enum code 99/);
  assert.throws(() => enumCode(PROCESS, "nope"), /unknown enum name "nope"/);
});

Deno.test("bitsToNames / namesToBits: bits above 31 are exact", () => {
  const flag = namesToBits(BADNESS, ["few_sources", "bleed_trail", "banding"]);
  assert.equal(flag, 2 ** 1 + 2 ** 16 + 2 ** 46);
  assert.deepStrictEqual(bitsToNames(BADNESS, flag), ["banding", "few_sources", "bleed_trail"]);
  assert.deepStrictEqual(bitsToNames(BADNESS, BigInt(flag)), [
    "banding",
    "few_sources",
    "bleed_trail",
  ]);
  assert.deepStrictEqual(bitsToNames(BADNESS, 0), []);
  assert.throws(() => bitsToNames(BADNESS, 1), /bit 0 of 1 has no name/);
  assert.equal(orBits(2 ** 41, 2 ** 41, 2 ** 3), 2 ** 41 + 2 ** 3);
  // DESIGN.md flags bits
  assert.deepStrictEqual(bitsToNames(PIXEL_FLAGS, 0b111111), [
    "bad_pixel",
    "zero_weight",
    "saturated",
    "out_of_bounds",
    "cosmic_ray",
    "bleed_trail",
  ]);
});
