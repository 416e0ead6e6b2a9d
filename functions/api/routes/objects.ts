/**
 * GET /objects?ra=&dec=&radius= (cone search: HEALPix pixel ranges, then the
 * exact distance; radius in arcsec), GET /objects/:id and
 * GET /objects/:id/measurements (its light curve, oldest first).
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { coneSearch } from "../../_shared/db/cone.ts";
import type { ResolvedDeps } from "../deps.ts";
import { Problem } from "../problem.ts";
import { parseQuery, queryInt, queryNumber, uuidParam } from "../validate.ts";

const OBJECT_COLUMNS = "id, name, ra, dec, healpix, is_test, is_fake, is_bad, info, created_at";

function objectJson(r: Record<string, unknown>): Record<string, unknown> {
  return {
    ...r,
    links: { self: `/objects/${r.id}`, measurements: `/objects/${r.id}/measurements` },
  };
}

/** The object routes. */
export function objectRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  const cone = z.object({
    ra: queryNumber.pipe(z.number().min(0).lt(360)),
    dec: queryNumber.pipe(z.number().min(-90).max(90)),
    radius: queryNumber.pipe(
      z.number().gt(0).max(deps.limits.maxRadiusArcsec, {
        message: `radius is at most ${deps.limits.maxRadiusArcsec} arcsec`,
      }),
    ),
    limit: queryInt.pipe(z.int().min(1).max(deps.limits.maxPageSize)).optional(),
    include_bad: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  }).strict();
  app.get("/objects", async (c) => {
    const q = parseQuery(c, cone);
    const rows = await coneSearch(deps.db, "objects", q.ra, q.dec, q.radius / 3600, {
      where: q.include_bad ? undefined : "NOT t.is_bad",
      limit: q.limit ?? deps.limits.defaultPageSize,
    });
    const items = rows.map(({ separation_deg, ...r }) => ({
      ...objectJson(pick(r)),
      separation_arcsec: separation_deg * 3600,
    }));
    return c.json({ items, ra: q.ra, dec: q.dec, radius: q.radius });
  });
  app.get("/objects/:id", async (c) => {
    const id = uuidParam(c, "id");
    const rows = await deps.db.query(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = $1`, [id]);
    if (rows.length === 0) throw Problem.notFound(`no object ${id}`);
    return c.json(objectJson(rows[0]));
  });
  app.get("/objects/:id/measurements", async (c) => {
    const id = uuidParam(c, "id");
    const object = await deps.db.query("SELECT 1 FROM objects WHERE id = $1", [id]);
    if (object.length === 0) throw Problem.notFound(`no object ${id}`);
    const rows = await deps.db.query<Record<string, unknown>>(
      `SELECT m.id, m.index_in_sources, m.ra, m.dec, m.x, m.y, m.flux_psf, m.flux_psf_err,
              m.mag_psf, m.mag_psf_err, m.flux_apertures, m.flux_apertures_err, m.aper_radii,
              m.bkg_mean, m.bkg_std, m.elongation, m.width, m.position_angle, m.nbad_pixels,
              m.disqualifier_scores, m.is_bad, m.is_test, m.is_fake,
              ms.id AS measurement_set_id, ms.provenance_id, cu.id AS cutouts_id,
              im.id AS image_id, im.mjd, im.filter, im.instrument, im.section_id
         FROM measurements m
         JOIN measurement_sets ms ON ms.id = m.measurement_set_id
         JOIN cutouts cu ON cu.id = ms.cutouts_id
         JOIN source_lists sl ON sl.id = cu.sources_id
         JOIN images im ON im.id = sl.image_id
        WHERE m.object_id = $1
        ORDER BY im.mjd, m.id`,
      [id],
    );
    const items = rows.map((r) => ({
      ...r,
      links: {
        image: `/images/${r.image_id}`,
        cutout: `/cutouts/${r.cutouts_id}.png?index=${r.index_in_sources}`,
        provenance: `/provenances/${r.provenance_id}`,
      },
    }));
    return c.json({ object_id: id, items });
  });
  return app;
}

function pick(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of OBJECT_COLUMNS.split(", ")) out[k] = r[k];
  return out;
}
