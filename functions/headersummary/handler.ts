/**
 * headersummary handler: exposure row -> its FITS headers (ranged reads) ->
 * run() -> summary JSON in the object store + a header_summaries row.
 *
 * @module
 */
import type { Handler } from "../_shared/runtime/handler.ts";
import { executeStep } from "../_shared/runtime/execute.ts";
import { type ExtensionShape, type HeaderSummaryInputs, headerSummaryStep } from "./step.ts";

/** The object key of a summary: fixed by the exposure and the provenance. */
export function summaryKey(exposureId: string, provenanceId: string): string {
  return `headersummary/${exposureId}/${provenanceId}.json`;
}

/** Handles a headersummary message. */
export const handleHeaderSummary: Handler = (ctx) =>
  executeStep(ctx, {
    step: headerSummaryStep,
    upstreams: async (ds) => [(await ds.exposure()).provenance_id],
    async findExisting(db, ds, provenance) {
      const rows = await db.query<{ id: string }>(
        "SELECT id FROM header_summaries WHERE exposure_id = $1 AND provenance_id = $2",
        [ds.exposureId, provenance.id],
      );
      return rows[0]?.id ?? null;
    },
    async loadInputs(ds): Promise<HeaderSummaryInputs> {
      const fits = await ds.exposureFits();
      const hdus = await fits.hdus();
      const primary: HeaderSummaryInputs["primary"] = {};
      for (const key of hdus[0].header.keys()) {
        const value = hdus[0].header.get(key);
        if (value === undefined || key === "COMMENT" || key === "HISTORY" || key === "") continue;
        primary[key] = typeof value === "bigint" ? Number(value) : value;
      }
      const extensions: ExtensionShape[] = hdus.map((hdu) => {
        const naxis = hdu.header.getNumber("NAXIS", 0)!;
        const shape: number[] = [];
        for (let k = 1; k <= naxis; k++) shape.push(hdu.header.getNumber(`NAXIS${k}`)!);
        return {
          index: hdu.index,
          extname: hdu.name ?? null,
          shape,
          bitpix: hdu.header.getNumber("BITPIX")!,
        };
      });
      return { primary, extensions };
    },
    async save(ds, outputs, provenance, tx) {
      const key = summaryKey(ds.exposureId, provenance.id);
      const info = await ds.store.put(
        key,
        new TextEncoder().encode(JSON.stringify(outputs.summary)),
        {
          contentType: "application/json",
        },
      );
      const id = crypto.randomUUID();
      await tx.query(
        `INSERT INTO header_summaries (id, exposure_id, provenance_id, summary, filepath, md5)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, ds.exposureId, provenance.id, outputs.summary, key, info.md5],
      );
      return id;
    },
  });
