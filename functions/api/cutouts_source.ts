/**
 * Where the PNG endpoint gets its stamps: the one place the API reads `cutouts`
 * rows and files. Everything else sees {@linkcode CutoutTriplet}s through a
 * {@linkcode CutoutsSource}, so a change of the cutouts file format changes only
 * this file.
 *
 * The file layout read here is the Cutouts product's
 * (functions/_shared/products/cutouts_file.ts): image HDUs named `NEW`, `REF`
 * and `SUB` are float32 cubes NAXIS1 = NAXIS2 = `stamp_size`, NAXIS3 =
 * `num_cutouts` (stamp k is plane k, in the order of the file's SOURCES table);
 * the weight and flag cubes (`NEW_WEIGHT`, `NEW_FLAGS`, ...) are not read here.
 *
 * @module
 */
import type { Db } from "../_shared/db/db.ts";
import { openFits } from "../_shared/fits/reader.ts";
import { objectSource } from "../_shared/fits/source.ts";
import type { ObjectStore } from "../_shared/storage/object_store.ts";

/** The new, reference and difference stamps of one detection (row-major, size x size). */
export interface CutoutTriplet {
  /** Side of each square stamp, pixels. */
  size: number;
  new: Float32Array;
  ref: Float32Array;
  sub: Float32Array;
}

/** What a source answers for (cutouts id, index). */
export type CutoutLookup =
  | { found: false }
  | { found: true; count: number; triplet: CutoutTriplet | null };

/**
 * Looks up stamp `index` of cutouts product `cutoutsId`: `found: false` when there
 * is no such product, `triplet: null` when `index >= count`.
 */
export type CutoutsSource = (cutoutsId: string, index: number) => Promise<CutoutLookup>;

/** The planes `index` of the NEW, REF and SUB cubes of a cutouts FITS file. */
export async function readCutoutsFile(
  store: ObjectStore,
  key: string,
  index: number,
): Promise<CutoutTriplet & { count: number }> {
  const fits = await openFits(objectSource(store, key));
  try {
    const planes: Float32Array[] = [];
    let size = 0, count = 0;
    for (const name of ["NEW", "REF", "SUB"]) {
      const image = await (await fits.hdu(name)).readImage();
      const [nx, ny, nz = 1] = image.axes;
      if (nx !== ny) {
        throw new Error(`cutouts ${key}: ${name} stamps are ${nx} x ${ny}, not square`);
      }
      if (size !== 0 && (nx !== size || nz !== count)) {
        throw new Error(
          `cutouts ${key}: ${name} is ${nx} x ${ny} x ${nz}, NEW is ${size} x ${size} x ${count}`,
        );
      }
      size = nx;
      count = nz;
      if (index >= count) {
        return {
          size,
          count,
          new: new Float32Array(),
          ref: new Float32Array(),
          sub: new Float32Array(),
        };
      }
      const n = nx * ny;
      planes.push(
        Float32Array.from(image.data.subarray(index * n, (index + 1) * n) as ArrayLike<number>),
      );
    }
    return { size, count, new: planes[0], ref: planes[1], sub: planes[2] };
  } finally {
    await fits.close();
  }
}

/** The source over the `cutouts` table and the object store. */
export function cutoutsFromStore(db: Db, store: ObjectStore): CutoutsSource {
  return async (cutoutsId, index) => {
    const rows = await db.query<{ filepath: string; num_cutouts: number }>(
      "SELECT filepath, num_cutouts FROM cutouts WHERE id = $1",
      [cutoutsId],
    );
    if (rows.length === 0) return { found: false };
    const count = Number(rows[0].num_cutouts);
    if (index >= count) return { found: true, count, triplet: null };
    const file = await readCutoutsFile(store, rows[0].filepath, index);
    if (index >= file.count) return { found: true, count: file.count, triplet: null };
    return {
      found: true,
      count,
      triplet: { size: file.size, new: file.new, ref: file.ref, sub: file.sub },
    };
  };
}
