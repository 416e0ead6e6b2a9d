import assert from "node:assert/strict";
import { z } from "zod";
import { flagHelp, parseFlags } from "./flags.ts";

const schema = z.object({
  refEpochs: z.number().int().default(10).describe("reference epochs"),
  band: z.enum(["g", "r"]).default("r").describe("band"),
  compress: z.boolean().default(true).describe("compress"),
  seeing: z.tuple([z.number(), z.number()]).default([0.9, 1.4]).describe("seeing range"),
});

Deno.test("parseFlags maps kebab-case flags onto the schema, with defaults", () => {
  assert.deepEqual(parseFlags(schema, ["--ref-epochs", "8", "--no-compress", "--seeing=1,2"]), {
    refEpochs: 8,
    band: "r",
    compress: false,
    seeing: [1, 2],
  });
  assert.deepEqual(parseFlags(schema, []), schema.parse({}));
});

Deno.test("parseFlags names the bad flag", () => {
  assert.throws(() => parseFlags(schema, ["--ref-epochs", "many"]), /--ref-epochs/);
  assert.throws(() => parseFlags(schema, ["--band", "z"]), /--band/);
  assert.throws(() => parseFlags(schema, ["--bogus", "1"]), /unknown option --bogus/);
  assert.throws(() => parseFlags(schema, ["--band"]), /needs a value/);
  assert.throws(() => parseFlags(schema, ["stray"]), /unexpected argument/);
});

Deno.test("flagHelp lists each option with its description and default", () => {
  const help = flagHelp(schema);
  assert.match(help, /--ref-epochs\s+reference epochs \[10\]/);
  assert.match(help, /--seeing\s+seeing range \[\[0.9,1.4\]\]/);
});
