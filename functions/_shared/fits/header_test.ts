import assert from "node:assert/strict";
import { Card, FitsError, formatNumber, Header, parseCards } from "./mod.ts";

/** Pads card texts to 80 characters each. */
function cards(...lines: string[]): string {
  return lines.map((l) => l.padEnd(80)).join("");
}

const SAMPLE = cards(
  "SIMPLE  =                    T / conforms to FITS standard",
  "BITPIX  =                  -32",
  "NAXIS   =                    0",
  "OBJECT  = 'NGC 1234 ''core'''  / with quotes",
  "EXPTIME =               90.000 / [s]",
  "GAIN    =              4.5D+00 / D exponent",
  "SATURATE=                  1E5",
  "BIGNUM  =  9223372036854775807",
  "UNDEF   =                      / undefined value",
  "CPLX    = (1.5, -2.0)",
  "LONG    = 'this string is long enough that it has to continue on more than one&'",
  "CONTINUE  ' card image, ending here&'",
  "CONTINUE  '' / and its comment",
  "HIERARCH ESO DET CHIP1 NAME = 'CCD-44' / chip",
  "HIERARCH ESO TEL AIRM START = 1.234",
  "COMMENT   a comment card, spaces kept   ",
  "HISTORY first history",
  "HISTORY second history",
  "",
  "        blank keyword text",
  "DATE-OBS= '2024-01-02T03:04:05.6'",
  "END",
);

Deno.test("Header.parse reads every value type, CONTINUE and HIERARCH", () => {
  const h = Header.parse(SAMPLE.padEnd(2880));
  assert.equal(h.get("SIMPLE"), true);
  assert.equal(h.get("BITPIX"), -32);
  assert.equal(h.get("OBJECT"), "NGC 1234 'core'");
  assert.equal(h.comment("OBJECT"), "with quotes");
  assert.equal(h.get("EXPTIME"), 90);
  assert.equal(h.card("EXPTIME")!.float, true);
  assert.equal(h.get("GAIN"), 4.5);
  assert.equal(h.get("SATURATE"), 1e5);
  assert.equal(h.get("BIGNUM"), 9223372036854775807n);
  assert.equal(h.get("UNDEF"), null);
  assert.equal(h.get("CPLX"), "(1.5, -2.0)");
  assert.equal(
    h.get("LONG"),
    "this string is long enough that it has to continue on more than one card image, ending here",
  );
  assert.equal(h.comment("LONG"), "and its comment");
  assert.equal(h.get("ESO DET CHIP1 NAME"), "CCD-44");
  assert.equal(h.get("HIERARCH ESO DET CHIP1 NAME"), "CCD-44");
  assert.equal(h.get("ESO TEL AIRM START"), 1.234);
  assert.deepEqual(h.comments(), ["  a comment card, spaces kept"]);
  assert.deepEqual(h.history(), ["first history", "second history"]);
  assert.equal(h.get("DATE-OBS"), "2024-01-02T03:04:05.6");
  assert.equal(h.has("END"), false);
});

Deno.test("Header.toString round-trips the original card images exactly", () => {
  const text = SAMPLE.padEnd(2880);
  const h = Header.parse(text);
  assert.equal(h.toString(), text);
  assert.equal(h.clone().toString(), text);
  // a change rewrites only the changed card
  h.set("EXPTIME", 120.5);
  const again = h.toString();
  assert.equal(again.length, 2880);
  assert.equal(again.slice(320, 400), "EXPTIME =                120.5 / [s]".padEnd(80));
  assert.equal(again.slice(0, 320), text.slice(0, 320));
  assert.equal(again.slice(400), text.slice(400));
});

Deno.test("Header.set formats new cards that parse back to the same values", () => {
  const h = new Header();
  const long = "a'b".repeat(60) + " end";
  h.set("INT", 42, "an int").set("REAL", 0.1).set("ONE", 1, "float one", { float: true });
  h.set("TINY", 1.5e-300).set("NEG", -2.25e22).set("FLAG", false).set("STR", "x");
  h.set("LONGSTR", long, "the comment of a long string that is itself quite long, to force a card");
  h.set("NOVAL", null, "undefined");
  h.set("ESO INS FILT1 NAME", "r'", "hierarch");
  h.add("HISTORY", "h".repeat(100));
  const text = h.toString();
  assert.equal(text.length % 2880, 0);
  for (let i = 0; i < text.length; i += 80) {
    assert.ok(/^[\x20-\x7e]{80}$/.test(text.slice(i, i + 80)));
  }
  const back = Header.parse(text);
  assert.equal(back.get("INT"), 42);
  assert.equal(back.get("REAL"), 0.1);
  assert.equal(back.get("ONE"), 1);
  assert.ok(back.card("ONE")!.toImages()[0].includes("1.0"));
  assert.equal(back.get("TINY"), 1.5e-300);
  assert.equal(back.get("NEG"), -2.25e22);
  assert.equal(back.get("FLAG"), false);
  assert.equal(back.get("STR"), "x");
  assert.equal(back.get("LONGSTR"), long);
  assert.equal(
    back.comment("LONGSTR"),
    "the comment of a long string that is itself quite long, to force a card",
  );
  assert.equal(back.get("NOVAL"), null);
  assert.equal(back.get("ESO INS FILT1 NAME"), "r'");
  assert.equal(back.history().join(""), "h".repeat(100));
  assert.equal(back.delete("INT"), 1);
  assert.equal(back.has("INT"), false);
});

Deno.test("formatNumber keeps every double exactly", () => {
  let s = 1;
  for (let i = 0; i < 2000; i++) {
    s = (s * 16807) % 2147483647;
    const v = (s / 2147483647 - 0.5) * 10 ** ((i % 40) - 20);
    const t = formatNumber(v, true);
    assert.ok(t.length <= 20 || t.length <= 24, t);
    assert.equal(Number(t), v);
    assert.ok(/[.E]/.test(t));
  }
  assert.equal(formatNumber(2147483648, false), "2147483648");
  assert.equal(formatNumber(9223372036854775808, false), "9223372036854775808");
});

Deno.test("parseCards reports a missing END and bad values with the card name", () => {
  assert.equal(parseCards(cards("SIMPLE  =                    T")).end, -1);
  assert.throws(
    () => Header.parse(cards("SIMPLE  =                    T"), { file: "x.fits", hdu: 0 }),
    (e) => {
      assert.ok(e instanceof FitsError);
      assert.equal(e.card, "END");
      assert.equal(e.file, "x.fits");
      assert.equal(e.hdu, 0);
      return true;
    },
  );
  assert.throws(
    () => Header.parse(cards("BAD     = 12abc", "END")),
    (e) => e instanceof FitsError && e.card === "BAD",
  );
  assert.throws(() => new Header([new Card("NONASCII", "é")]).toString(), FitsError);
});
