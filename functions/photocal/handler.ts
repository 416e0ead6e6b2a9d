/**
 * photocal handler: (image, source list, astrocal WCS) of the message + the
 * catalog excerpt astrocal used (its object) -> run() -> a zero_points row.
 * A failed calibration marks the source list bad.
 *
 * @module
 */
import { readExcerpt } from "../_shared/catalogs/cache.ts";
import { DataStore } from "../_shared/datastore.ts";
import {
  findTaggedWorldCoordinates,
  findZeroPoint,
  insertZeroPoint,
  type WorldCoordinatesRecord,
} from "../_shared/db/calibrations.ts";
import { InputError } from "../_shared/errors.ts";
import { getInstrument } from "../_shared/instruments/registry.ts";
import type { Handler } from "../_shared/runtime/handler.ts";
import { executeStep } from "../_shared/runtime/execute.ts";
import { imageAndSources, markSourcesBad, orFlags, sourceTable } from "../astrocal/inputs.ts";
import { type PhotocalInputs, photocalStep } from "./step.ts";

/** The astrocal product of the message's source list under its tag. */
function worldCoordinates(ds: DataStore): Promise<WorldCoordinatesRecord> {
  return ds.lazy("world_coordinates", async () => {
    const { sources } = await imageAndSources(ds);
    const wcs = await findTaggedWorldCoordinates(ds.db, sources.id, ds.message.provenance_tag);
    if (!wcs) {
      throw new InputError(
        `source list ${sources.id} has no world coordinates under tag ${ds.message.provenance_tag}`,
        { field: "world_coordinates" },
      );
    }
    return wcs;
  });
}

/** Handles a photocal message. */
export const handlePhotocal: Handler = (ctx) =>
  executeStep(ctx, {
    step: photocalStep,
    upstreams: async (ds) => [(await worldCoordinates(ds)).provenanceId],
    async findExisting(db, ds, provenance) {
      return (await findZeroPoint(db, (await worldCoordinates(ds)).id, provenance.id))?.id ?? null;
    },
    async loadInputs(ds): Promise<PhotocalInputs> {
      const { image, sources } = await imageAndSources(ds);
      const wcs = await worldCoordinates(ds);
      const excerptId = wcs.info.catalog_excerpt_id;
      const rows = await ds.db.query<{ filepath: string; md5: string }>(
        "SELECT filepath, md5 FROM catalog_excerpts WHERE id = $1",
        [String(excerptId)],
      );
      if (rows.length === 0) {
        throw new InputError(`world coordinates ${wcs.id} name no stored catalog excerpt`, {
          field: "catalog_excerpt",
        });
      }
      const refStars = await readExcerpt(
        await ds.store.get(rows[0].filepath, { md5: rows[0].md5 }),
      );
      const instrument = getInstrument(image.instrument);
      const band = image.filter ? instrument.band(image.filter) : null;
      if (!band) {
        throw new InputError(`image ${image.id}: no band for filter ${image.filter}`, {
          field: "filter",
        });
      }
      return {
        sources: await sourceTable(ds),
        width: image.width,
        height: image.height,
        wcs: wcs.header,
        bestAperture: sources.bestAperNum,
        mjd: image.mjd,
        expTime: image.expTime,
        band,
        instrument,
        refStars,
      };
    },
    async save(ds, outputs, provenance, tx) {
      const wcs = await worldCoordinates(ds);
      const id = crypto.randomUUID();
      await insertZeroPoint(tx, {
        id,
        wcsId: wcs.id,
        provenanceId: provenance.id,
        zp: outputs.zp,
        dzp: outputs.dzp,
        aperCorRadii: outputs.aperCorRadii,
        aperCors: outputs.aperCors,
        limMag: Number.isFinite(outputs.limMag) ? outputs.limMag : null,
        nStars: outputs.nStars,
        info: outputs.info,
        bitflag: 0,
        upstreamBitflag: orFlags(wcs.bitflag, wcs.upstreamBitflag),
      });
      return id;
    },
  }).catch(async (err) => {
    throw await markSourcesBad(new DataStore(ctx, ctx.message), err);
  });
