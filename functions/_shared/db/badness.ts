/**
 * Badness: products carry `_bitflag` (their own bad bits) and `_upstream_bitflag`
 * (the OR of everything upstream). Marking a product bad sets its bits and ORs
 * them into every product made from it, down the chain, in one transaction.
 *
 * @module
 */
import type { Db } from "./db.ts";
import { BADNESS, namesToBits } from "./enums.ts";

/** Tables that carry badness bits. */
export type BadnessTable =
  | "exposures"
  | "images"
  | "source_lists"
  | "backgrounds"
  | "psfs"
  | "world_coordinates"
  | "zero_points"
  | "refs"
  | "cutouts"
  | "measurement_sets"
  | "measurements"
  | "deepscore_sets";

/** A downstream edge: the child table and the SQL selecting child ids of a parent id ($1). */
interface Edge {
  child: BadnessTable;
  childIds: string;
}

/** What is made from what (foreign keys along the product chain). */
const DOWNSTREAM: Readonly<Record<BadnessTable, readonly Edge[]>> = {
  exposures: [{ child: "images", childIds: "SELECT id FROM images WHERE exposure_id = $1" }],
  images: [
    { child: "source_lists", childIds: "SELECT id FROM source_lists WHERE image_id = $1" },
  ],
  source_lists: [
    { child: "backgrounds", childIds: "SELECT id FROM backgrounds WHERE sources_id = $1" },
    { child: "psfs", childIds: "SELECT id FROM psfs WHERE sources_id = $1" },
    {
      child: "world_coordinates",
      childIds: "SELECT id FROM world_coordinates WHERE sources_id = $1",
    },
    { child: "cutouts", childIds: "SELECT id FROM cutouts WHERE sources_id = $1" },
  ],
  backgrounds: [],
  psfs: [],
  world_coordinates: [
    { child: "zero_points", childIds: "SELECT id FROM zero_points WHERE wcs_id = $1" },
  ],
  zero_points: [
    { child: "refs", childIds: "SELECT id FROM refs WHERE zp_id = $1" },
    {
      child: "images",
      childIds: "SELECT image_id FROM image_subtraction_components WHERE new_zp_id = $1",
    },
    {
      child: "images",
      childIds: "SELECT coadd_image_id FROM image_coadd_components WHERE zp_id = $1",
    },
  ],
  refs: [
    {
      child: "images",
      childIds: "SELECT image_id FROM image_subtraction_components WHERE ref_id = $1",
    },
  ],
  cutouts: [
    {
      child: "measurement_sets",
      childIds: "SELECT id FROM measurement_sets WHERE cutouts_id = $1",
    },
  ],
  measurement_sets: [
    {
      child: "measurements",
      childIds: "SELECT id FROM measurements WHERE measurement_set_id = $1",
    },
    {
      child: "deepscore_sets",
      childIds: "SELECT id FROM deepscore_sets WHERE measurement_set_id = $1",
    },
  ],
  measurements: [],
  deepscore_sets: [],
};

/**
 * Sets the named badness bits on a product and ORs them into the upstream
 * bitflag of every product downstream of it. Returns how many rows changed
 * downstream.
 */
export async function markBad(
  db: Db,
  table: BadnessTable,
  id: string,
  reasons: readonly string[],
): Promise<number> {
  const bits = namesToBits(BADNESS, reasons);
  return await db.transaction(async (tx) => {
    const updated = await tx.query(
      `UPDATE ${table} SET _bitflag = _bitflag | $2::bigint WHERE id = $1 RETURNING id`,
      [id, bits],
    );
    if (updated.length === 0) throw new Error(`markBad: no ${table} row ${id}`);
    return await propagate(tx, table, id, bits, new Set([`${table}:${id}`]));
  });
}

async function propagate(
  tx: Db,
  table: BadnessTable,
  id: string,
  bits: number,
  seen: Set<string>,
): Promise<number> {
  let changed = 0;
  for (const edge of DOWNSTREAM[table]) {
    const children = await tx.query<Record<string, string>>(edge.childIds, [id]);
    for (const row of children) {
      const childId = Object.values(row)[0];
      const key = `${edge.child}:${childId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      await tx.query(
        `UPDATE ${edge.child} SET _upstream_bitflag = _upstream_bitflag | $2::bigint WHERE id = $1`,
        [childId, bits],
      );
      changed += 1 + await propagate(tx, edge.child, childId, bits, seen);
    }
  }
  return changed;
}

/** A product's effective badness: its own bits OR its upstreams'. */
export async function badnessOf(db: Db, table: BadnessTable, id: string): Promise<number> {
  const rows = await db.query<{ flag: number | bigint }>(
    `SELECT (_bitflag | _upstream_bitflag) AS flag FROM ${table} WHERE id = $1`,
    [id],
  );
  if (rows.length === 0) throw new Error(`badnessOf: no ${table} row ${id}`);
  return Number(rows[0].flag);
}
