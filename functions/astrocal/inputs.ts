/**
 * What astrocal and photocal load: the image and source list of the message
 * (science images by exposure + section under the message's tag; coadds by
 * image id), the source list's table, and the reference catalog source chosen
 * by configuration.
 *
 * @module
 */
import type { z } from "zod";
import { CatalogExcerpts } from "../_shared/catalogs/cache.ts";
import type { CatalogSource } from "../_shared/catalogs/catalog.ts";
import { FileCatalogSource } from "../_shared/catalogs/file.ts";
import { HttpGaiaSource } from "../_shared/catalogs/http.ts";
import { SimSkySource } from "../_shared/catalogs/sim.ts";
import type { DataStore } from "../_shared/datastore.ts";
import { markBad } from "../_shared/db/badness.ts";
import { findTaggedImage, getImage, type ImageRecord } from "../_shared/db/images.ts";
import { findTaggedSourceList, type SourceListRecord } from "../_shared/db/sources.ts";
import { AlgorithmError, ConfigError, InputError } from "../_shared/errors.ts";
import { readFits } from "../_shared/fits/reader.ts";
import { decodeSourceList, type SourceList } from "../_shared/products/source_list_file.ts";
import { SimSky } from "../_shared/sim/sky.ts";
import type { CatalogSettings } from "./step.ts";

/** The image and source list a calibration message is about. */
export function imageAndSources(
  ds: DataStore,
): Promise<{ image: ImageRecord; sources: SourceListRecord }> {
  return ds.lazy("calibration_image_sources", async () => {
    const tag = ds.message.provenance_tag;
    let image: ImageRecord | null;
    if (ds.message.image_id) image = await getImage(ds.db, ds.message.image_id);
    else {
      const section = ds.message.section_id;
      if (!section) {
        throw new InputError(`step ${ds.message.step} needs section_id or image_id`, {
          field: "section_id",
        });
      }
      image = await findTaggedImage(ds.db, ds.exposureId, section, tag);
    }
    if (!image) {
      throw new InputError(`no image for this message under tag ${tag}`, { field: "image" });
    }
    const sources = await findTaggedSourceList(ds.db, image.id, tag);
    if (!sources) {
      throw new InputError(`image ${image.id} has no source list under tag ${tag}`, {
        field: "source_list",
      });
    }
    return { image, sources };
  });
}

/** The source list's table. */
export function sourceTable(ds: DataStore): Promise<SourceList> {
  return ds.lazy("calibration_source_table", async () => {
    const { sources } = await imageAndSources(ds);
    const bytes = await ds.store.get(sources.filepath, { md5: sources.md5 });
    return await decodeSourceList(await readFits(bytes, { name: sources.filepath }));
  });
}

/** The catalog source and the CATALOG_ORIGIN of its excerpts, from the astrocal settings. */
export function catalogSource(
  settings: z.infer<typeof CatalogSettings>,
): { source: CatalogSource; origin: "gaia_dr3" | "simulated" } {
  switch (settings.kind) {
    case "http":
      if (!settings.url) {
        throw new ConfigError(
          "astrocal.catalog.url is empty: set the excerpt server, or kind file/simsky",
          "config",
          "astrocal.catalog.url",
        );
      }
      return {
        source: new HttpGaiaSource({ base: settings.url, maxMag: settings.max_mag }),
        origin: "gaia_dr3",
      };
    case "file":
      if (!settings.path) {
        throw new ConfigError("astrocal.catalog.path is empty", "config", "astrocal.catalog.path");
      }
      return { source: new FileCatalogSource({ path: settings.path }), origin: "gaia_dr3" };
    case "simsky":
      return { source: new SimSkySource(new SimSky(settings.simsky)), origin: "simulated" };
  }
}

/** The excerpt cache of the configured catalog. */
export function excerpts(
  ds: DataStore,
  settings: z.infer<typeof CatalogSettings>,
): CatalogExcerpts {
  const { source, origin } = catalogSource(settings);
  return new CatalogExcerpts(ds.db, ds.store, source, origin);
}

/**
 * After a failed step: when `err` is an AlgorithmError naming a badness bit,
 * sets that bit on the message's source list (and ORs it downstream). Returns `err`.
 */
export async function markSourcesBad(ds: DataStore, err: unknown): Promise<unknown> {
  if (err instanceof AlgorithmError && err.badness) {
    try {
      const { sources } = await imageAndSources(ds);
      await markBad(ds.db, "source_lists", sources.id, [err.badness]);
    } catch {
      // no source list to mark: the error itself is what gets reported
    }
  }
  return err;
}

/** OR of two bitflags (bits up to 63, so not with 32-bit `|`). */
export function orFlags(a: number, b: number): number {
  return Number(BigInt(a) | BigInt(b));
}
