/**
 * The DataStore: the references of one (exposure, section) run — or one image,
 * for coadds and references — with the products loaded lazily, each at most
 * once, the first time a step asks for it.
 *
 * @module
 */
import type { Db } from "./db/db.ts";
import { InputError } from "./errors.ts";
import { openFits } from "./fits/reader.ts";
import type { FitsFile } from "./fits/reader.ts";
import { objectSource } from "./fits/source.ts";
import type { StepMessage } from "./message.ts";
import type { Services } from "./runtime/handler.ts";
import type { ObjectStore } from "./storage/object_store.ts";

/** The exposures row, as steps use it. */
export interface ExposureRow {
  id: string;
  provenance_id: string;
  instrument: string;
  telescope: string;
  filter: string | null;
  mjd: number;
  exp_time: number;
  ra: number;
  dec: number;
  filepath: string;
  md5: string;
  header: Record<string, unknown>;
}

/** The products and references of one run, loaded on first use. */
export class DataStore {
  readonly #cache = new Map<string, Promise<unknown>>();

  constructor(readonly services: Services, readonly message: StepMessage) {}

  /** The database. */
  get db(): Db {
    return this.services.db;
  }

  /** The object store. */
  get store(): ObjectStore {
    return this.services.store;
  }

  /** Loads `name` once with `loader`; later calls share the first result (or failure). */
  lazy<T>(name: string, loader: () => Promise<T>): Promise<T> {
    let entry = this.#cache.get(name) as Promise<T> | undefined;
    if (!entry) {
      entry = loader();
      this.#cache.set(name, entry);
    }
    return entry;
  }

  /** The message's exposure id; an {@linkcode InputError} when the message has none. */
  get exposureId(): string {
    const id = this.message.exposure_id;
    if (!id) {
      throw new InputError(`step ${this.message.step} needs exposure_id`, { field: "exposure_id" });
    }
    return id;
  }

  /** The exposure row; an {@linkcode InputError} when it does not exist. */
  exposure(): Promise<ExposureRow> {
    return this.lazy("exposure", async () => {
      const rows = await this.db.query<ExposureRow & Record<string, unknown>>(
        `SELECT id, provenance_id, instrument, telescope, filter, mjd, exp_time, ra, dec,
                filepath, md5, header FROM exposures WHERE id = $1`,
        [this.exposureId],
      );
      if (rows.length === 0) {
        throw new InputError(`exposure ${this.exposureId} does not exist`, {
          field: "exposure_id",
        });
      }
      return rows[0];
    });
  }

  /** The exposure's raw FITS file, opened lazily through ranged reads. */
  exposureFits(): Promise<FitsFile> {
    return this.lazy("exposure_fits", async () => {
      const exposure = await this.exposure();
      return await openFits(objectSource(this.store, exposure.filepath), {
        name: exposure.filepath,
      });
    });
  }
}
