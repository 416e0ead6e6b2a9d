/**
 * astrocal handler: (image, source list) of the message -> the image's header
 * WCS (a ranged read of its primary header) + a cached Gaia excerpt around it ->
 * run() -> a world_coordinates row, and the images row's footprint rewritten
 * from the fitted WCS, in one transaction. A failed match marks the source
 * list bad (xmatch_failed, big_residuals or no_catalog).
 *
 * @module
 */
import { fieldRect } from "../_shared/catalogs/cache.ts";
import type { SkyRect } from "../_shared/catalogs/catalog.ts";
import { findWorldCoordinates, insertWorldCoordinates } from "../_shared/db/calibrations.ts";
import { raRange, updateImageSky } from "../_shared/db/images.ts";
import { openFits } from "../_shared/fits/reader.ts";
import { objectSource } from "../_shared/fits/source.ts";
import type { Handler } from "../_shared/runtime/handler.ts";
import { executeStep } from "../_shared/runtime/execute.ts";
import { angularSeparationDeg } from "../_shared/sky/mod.ts";
import { wcsFromHeader } from "../_shared/wcs/mod.ts";
import { excerpts, imageAndSources, markSourcesBad, orFlags, sourceTable } from "./inputs.ts";
import { DataStore } from "../_shared/datastore.ts";
import { type AstrocalInputs, AstrocalParams, astrocalStep } from "./step.ts";

/** The sky rectangle of an image's corners grown by `padDeg`. */
export function paddedRect(
  corners: { ra: number[]; dec: number[] },
  padDeg: number,
): SkyRect {
  const minDec = Math.max(-90, Math.min(...corners.dec) - padDeg);
  const maxDec = Math.min(90, Math.max(...corners.dec) + padDeg);
  const cos = Math.cos((Math.max(Math.abs(minDec), Math.abs(maxDec)) * Math.PI) / 180);
  if (cos < 0.02) return { minRa: 0, maxRa: 360, minDec, maxDec };
  const r = raRange(corners.ra);
  const norm = (a: number) => ((a % 360) + 360) % 360;
  return { minRa: norm(r.min - padDeg / cos), maxRa: norm(r.max + padDeg / cos), minDec, maxDec };
}

/** Handles an astrocal message. */
export const handleAstrocal: Handler = (ctx) => {
  const params = AstrocalParams.parse(ctx.config.astrocal ?? {});
  let excerptId: string | null = null;
  return executeStep(ctx, {
    step: astrocalStep,
    upstreams: async (ds) => [(await imageAndSources(ds)).sources.provenanceId],
    async findExisting(db, ds, provenance) {
      const { sources } = await imageAndSources(ds);
      return (await findWorldCoordinates(db, sources.id, provenance.id))?.id ?? null;
    },
    async loadInputs(ds): Promise<AstrocalInputs> {
      const { image } = await imageAndSources(ds);
      const fits = await openFits(objectSource(ds.store, image.filepath), { name: image.filepath });
      const header = (await fits.hdu(0)).header;
      // the catalog area: the header's footprint (else the row's) grown by the search radius
      let corners = image.corners as { ra: number[]; dec: number[] };
      try {
        const w = wcsFromHeader(header);
        const cs = [[0, 0], [0, image.height - 1], [image.width - 1, 0], [
          image.width - 1,
          image.height - 1,
        ]].map(([x, y]) => w.pixToSky(x, y));
        corners = { ra: cs.map((c) => c.ra), dec: cs.map((c) => c.dec) };
      } catch {
        // run() reports the unusable WCS
      }
      const pad = params.search_radius_arcmin / 60 + 0.02;
      let rect = paddedRect(corners, pad);
      if (params.catalog.field_radius_deg > 0 && image.exposureId) {
        const exposure = await ds.exposure();
        const far = corners.ra.some((ra, k) =>
          angularSeparationDeg(exposure.ra, exposure.dec, ra, corners.dec[k]) + pad >
            params.catalog.field_radius_deg
        );
        if (!far) rect = fieldRect(exposure.ra, exposure.dec, params.catalog.field_radius_deg);
      }
      const excerpt = await excerpts(ds, params.catalog).get(rect, {
        maxMag: params.catalog.max_mag,
      });
      excerptId = excerpt.id;
      return {
        sources: await sourceTable(ds),
        width: image.width,
        height: image.height,
        header,
        mjd: image.mjd,
        expTime: image.expTime,
        refStars: excerpt.stars,
      };
    },
    async save(ds, outputs, provenance, tx) {
      const { image, sources } = await imageAndSources(ds);
      const id = crypto.randomUUID();
      await insertWorldCoordinates(tx, {
        id,
        sourcesId: sources.id,
        provenanceId: provenance.id,
        projection: outputs.projection,
        header: outputs.cards,
        nMatched: outputs.nMatched,
        rmsArcsec: outputs.rmsArcsec,
        info: { ...outputs.info, catalog_excerpt_id: excerptId },
        bitflag: 0,
        upstreamBitflag: orFlags(sources.bitflag, sources.upstreamBitflag),
      });
      if (!(await updateImageSky(tx, image.id, outputs.footprint))) {
        throw new Error(`image ${image.id} vanished before its footprint was updated`);
      }
      return id;
    },
  }).catch(async (err) => {
    throw await markSourcesBad(new DataStore(ctx, ctx.message), err);
  });
};
