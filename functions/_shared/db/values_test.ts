import assert from "node:assert/strict";
import { normaliseParam, normaliseRows, toInt8 } from "./_values.ts";
import { parsePgArray, pgArrayLiteral } from "./_pgarray.ts";

Deno.test("toInt8: number when safe, exact bigint beyond", () => {
  assert.equal(toInt8("9007199254740991"), 9007199254740991);
  assert.equal(toInt8("-9007199254740991"), -9007199254740991);
  assert.equal(toInt8("9007199254740992"), 9007199254740992n);
  assert.equal(toInt8("9223372036854775807"), 9223372036854775807n);
  assert.equal(toInt8(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(toInt8(12n), 12);
  assert.equal(toInt8(null), null);
});

Deno.test("normaliseParam: what goes to the server", () => {
  assert.equal(normaliseParam(undefined), null);
  assert.equal(normaliseParam(2n ** 64n), "18446744073709551616");
  assert.equal(
    normaliseParam(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))),
    "2026-01-02T03:04:05.006Z",
  );
  assert.equal(normaliseParam({ a: [1, null] }), '{"a":[1,null]}');
  assert.deepStrictEqual(normaliseParam([1n, undefined, new Date(0)]), [
    "1",
    null,
    "1970-01-01T00:00:00.000Z",
  ]);
  // objects inside arrays stay objects: the adapter serialises them for jsonb or jsonb[]
  assert.deepStrictEqual(normaliseParam([{ a: 1n }, { b: 2 }]), [{ a: 1n }, { b: 2 }]);
  const bytes = new Uint8Array([1, 2]);
  assert.equal(normaliseParam(bytes), bytes);
  assert.equal(normaliseParam("text"), "text");
});

Deno.test("normaliseRows: int8 and bytea columns by type oid", () => {
  class Sub extends Uint8Array {}
  const rows = normaliseRows(
    [{ a: "5", b: ["1", "18446744073709551615", null], c: new Sub([7]), d: "5" }],
    [{ name: "a", oid: 20 }, { name: "b", oid: 1016 }, { name: "c", oid: 17 }, {
      name: "d",
      oid: 25,
    }],
  );
  assert.deepStrictEqual(rows, [{
    a: 5,
    b: [1, 18446744073709551615n, null],
    c: new Uint8Array([7]),
    d: "5",
  }]);
  assert.equal((rows[0].c as Uint8Array).constructor, Uint8Array);
});

Deno.test("parsePgArray: quoting, NULL, nesting, bounds", () => {
  const id = (x: string) => x;
  assert.deepStrictEqual(parsePgArray("{}", id), []);
  assert.deepStrictEqual(parsePgArray('{a,NULL,"NULL","q\\"u,o",""}', id), [
    "a",
    null,
    "NULL",
    'q"u,o',
    "",
  ]);
  assert.deepStrictEqual(parsePgArray("{{1,2},{3,NULL}}", Number), [[1, 2], [3, null]]);
  assert.deepStrictEqual(parsePgArray("[0:1]={7,8}", Number), [7, 8]);
  assert.deepStrictEqual(parsePgArray('{"a\\\\b"}', id), ["a\\b"]);
  assert.throws(() => parsePgArray("{a", id), /unterminated|malformed/);
});

Deno.test("pgArrayLiteral: parsePgArray reads back what it writes", () => {
  const values = ["plain", 'q"u\\o,te{}', "", null, "NULL", "ünï"];
  const literal = pgArrayLiteral(values);
  assert.equal(literal, '{"plain","q\\"u\\\\o,te{}","",NULL,"NULL","ünï"}');
  assert.deepStrictEqual(parsePgArray(literal, (x) => x), values);
  assert.equal(pgArrayLiteral([[1, 2], [3, null]]), '{{"1","2"},{"3",NULL}}');
  assert.equal(pgArrayLiteral(new Array(0)), "{}");
  assert.equal(pgArrayLiteral([new Uint8Array([0, 255])]), '{"\\\\x00ff"}');
});
