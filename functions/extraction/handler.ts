/**
 * extraction handler: the image preprocessing made for (exposure, section) under
 * the message's provenance tag (or the message's image_id) -> run() -> SourceList,
 * Background and PSF files in the object store, then their three rows in one
 * transaction.
 *
 * @module
 */
import type { DataStore } from "../_shared/datastore.ts";
import { badnessOf } from "../_shared/db/badness.ts";
import { findTaggedImage, getImage } from "../_shared/db/images.ts";
import type { ImageRecord } from "../_shared/db/images.ts";
import {
  findSourceList,
  insertBackground,
  insertPsf,
  insertSourceList,
} from "../_shared/db/sources.ts";
import { InputError } from "../_shared/errors.ts";
import { readFits } from "../_shared/fits/reader.ts";
import { encodeBackground } from "../_shared/products/background_file.ts";
import { decodeImage } from "../_shared/products/image_file.ts";
import { productKey } from "../_shared/products/keys.ts";
import { encodePsf } from "../_shared/products/psf_file.ts";
import { encodeSourceList } from "../_shared/products/source_list_file.ts";
import type { Handler } from "../_shared/runtime/handler.ts";
import { executeStep } from "../_shared/runtime/execute.ts";
import { sectionIdOf } from "../preprocessing/handler.ts";
import { type ExtractionInputs, extractionStep } from "./step.ts";

/** The image this message is about: its image_id, else (exposure, section, tag). */
export function imageOf(ds: DataStore): Promise<ImageRecord> {
  return ds.lazy("image", async () => {
    const m = ds.message;
    if (m.image_id) {
      const image = await getImage(ds.db, m.image_id);
      if (!image) throw new InputError(`image ${m.image_id} does not exist`, { field: "image_id" });
      return image;
    }
    const sectionId = sectionIdOf(ds);
    const image = await findTaggedImage(ds.db, ds.exposureId, sectionId, m.provenance_tag);
    if (!image) {
      throw new InputError(
        `no preprocessed image of exposure ${ds.exposureId} section ${sectionId} under tag ` +
          `${m.provenance_tag}`,
        { field: "exposure_id", section: sectionId },
      );
    }
    return image;
  });
}

function where(image: ImageRecord) {
  return image.exposureId && image.sectionId
    ? { exposureId: image.exposureId, sectionId: image.sectionId }
    : { imageId: image.id };
}

/** Handles an extraction message. */
export const handleExtraction: Handler = (ctx) =>
  executeStep(ctx, {
    step: extractionStep,
    upstreams: async (ds) => [(await imageOf(ds)).provenanceId],
    async findExisting(db, ds, provenance) {
      const list = await findSourceList(db, (await imageOf(ds)).id, provenance.id);
      return list?.id ?? null;
    },
    async loadInputs(ds): Promise<ExtractionInputs> {
      const image = await imageOf(ds);
      const bytes = await ds.store.get(image.filepath, { md5: image.md5 });
      return { image: await decodeImage(await readFits(bytes, { name: image.filepath })) };
    },
    async save(ds, out, provenance, tx) {
      const image = await imageOf(ds);
      const src = where(image);
      const put = (kind: "sources" | "background" | "psf", bytes: Uint8Array) => {
        const key = productKey(kind, src, provenance.id);
        return ds.store.put(key, bytes, { contentType: "application/fits" }).then((info) => ({
          key,
          md5: info.md5,
        }));
      };
      const sources = await put("sources", encodeSourceList(out.sources));
      const bkg = await put("background", encodeBackground(out.background));
      const psf = await put("psf", encodePsf(out.psf));
      const upstream = await badnessOf(tx, "images", image.id);
      const sourcesId = crypto.randomUUID();
      await insertSourceList(tx, {
        id: sourcesId,
        imageId: image.id,
        provenanceId: provenance.id,
        numSources: out.sources.count,
        aperRads: out.sources.apertureRadii,
        infAperNum: out.infAperture,
        bestAperNum: out.bestAperture,
        info: out.info,
        bitflag: 0,
        upstreamBitflag: upstream,
        filepath: sources.key,
        md5: sources.md5,
      });
      await insertBackground(tx, {
        id: crypto.randomUUID(),
        sourcesId,
        imageId: image.id,
        provenanceId: provenance.id,
        format: "mesh",
        method: "skydiff",
        value: out.background.global,
        noise: out.background.globalRms,
        info: {
          box: [out.background.boxWidth, out.background.boxHeight],
          filter: [out.background.filterWidth, out.background.filterHeight],
          bad_boxes: out.background.nBad,
        },
        bitflag: 0,
        upstreamBitflag: upstream,
        filepath: bkg.key,
        md5: bkg.md5,
      });
      await insertPsf(tx, {
        id: crypto.randomUUID(),
        sourcesId,
        imageId: image.id,
        provenanceId: provenance.id,
        format: "skydiff",
        fwhmPixels: out.psf.fwhm,
        stampSize: Math.round(out.psf.size / out.psf.oversample) | 1,
        info: {
          degree: out.psf.degree,
          oversample: out.psf.oversample,
          size: out.psf.size,
          stars: out.psf.nUsed,
        },
        bitflag: 0,
        upstreamBitflag: upstream,
        filepath: psf.key,
        md5: psf.md5,
      });
      return sourcesId;
    },
  });
