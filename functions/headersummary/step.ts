/**
 * headersummary: records what an exposure's FITS headers say — the chosen
 * primary-header keywords and the size of every extension. The smallest real
 * step: it proves the step contract end to end (message, provenance,
 * idempotence, object store, rows, report) before the pixel steps exist.
 *
 * @module
 */
import { z } from "zod";
import { defineStep } from "../_shared/runtime/step.ts";

/** The step's parameters. */
export const HeaderSummaryParams = z.object({
  keywords: z.array(z.string().min(1).max(70)).default([
    "INSTRUME",
    "TELESCOP",
    "OBJECT",
    "FILTER",
    "EXPTIME",
    "MJD-OBS",
    "RA",
    "DEC",
    "AIRMASS",
  ]).describe("primary-header keywords copied into the summary (missing ones are listed)"),
}).strict();

/** One extension as the summary describes it. */
export interface ExtensionShape {
  index: number;
  extname: string | null;
  /** NAXISn, fastest axis first; empty for a header-only HDU. */
  shape: number[];
  bitpix: number;
}

/** What run() reads: the headers of the exposure, already parsed. */
export interface HeaderSummaryInputs {
  /** The primary header's values by keyword. */
  primary: Record<string, string | number | boolean | null>;
  extensions: ExtensionShape[];
}

/** The summary product. */
export interface HeaderSummary {
  values: Record<string, string | number | boolean | null>;
  missing: string[];
  extensions: ExtensionShape[];
  /** Extensions with a 2-D image. */
  imageCount: number;
}

/** The step's declaration. */
export const headerSummaryStep = defineStep({
  process: "headersummary",
  codeVersion: "1.0.0",
  params: HeaderSummaryParams,
  critical: ["keywords"],
  inputs: ["exposure"],
  outputs: ["header_summary"],
  run(inputs: HeaderSummaryInputs, params: z.infer<typeof HeaderSummaryParams>) {
    const values: HeaderSummary["values"] = {};
    const missing: string[] = [];
    for (const keyword of params.keywords) {
      if (keyword in inputs.primary) values[keyword] = inputs.primary[keyword];
      else missing.push(keyword);
    }
    const imageCount = inputs.extensions.filter((e) => e.shape.length === 2).length;
    const summary: HeaderSummary = { values, missing, extensions: inputs.extensions, imageCount };
    return {
      outputs: { summary },
      metrics: {
        extensions: inputs.extensions.length,
        images: imageCount,
        missing: missing.length,
      },
    };
  },
});
