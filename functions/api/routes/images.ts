/**
 * GET /images/:id (one image with its header) and GET /images (the image query
 * builder, functions/_shared/db/image_query.ts, over query parameters; paged).
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Row } from "../../_shared/db/db.ts";
import { queryImages } from "../../_shared/db/image_query.ts";
import type { ResolvedDeps } from "../deps.ts";
import { Problem } from "../problem.ts";
import { parseQuery, queryNumber, uuidParam } from "../validate.ts";
import { page, pagingFields } from "./_paging.ts";
import { IMAGE_TYPE } from "../../_shared/db/enums.ts";

const text = z.string().trim().min(1).max(64);
const list = z.string().trim().min(1).max(512).transform((s) => s.split(",").map((x) => x.trim()))
  .pipe(z.array(text).min(1).max(32));

/** The JSON of an images row (as selected by an ImageQuery). */
export function imageJson(r: Row, withHeader: boolean): Record<string, unknown> {
  const { header, type, ...rest } = r;
  return {
    ...rest,
    type: IMAGE_TYPE[Number(type)] ?? type,
    ...(withHeader ? { header } : {}),
    links: {
      self: `/images/${r.id}`,
      provenance: `/provenances/${r.provenance_id}`,
      ...(r.exposure_id ? { exposure: `/exposures/${r.exposure_id}` } : {}),
    },
  };
}

/** The image routes. */
export function imageRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  const schema = z.object({
    exposure_id: z.uuid().optional(),
    target: text.optional(),
    section_id: text.optional(),
    filter: list.optional(),
    instrument: list.optional(),
    min_mjd: queryNumber.optional(),
    max_mjd: queryNumber.optional(),
    ra: queryNumber.pipe(z.number().min(0).lt(360)).optional(),
    dec: queryNumber.pipe(z.number().min(-90).max(90)).optional(),
    min_seeing: queryNumber.optional(),
    max_seeing: queryNumber.optional(),
    min_lim_mag: queryNumber.optional(),
    max_lim_mag: queryNumber.optional(),
    provenance_tag: text.optional(),
    type: z.enum(["sci", "coadd", "diff"]).optional(),
    good_only: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
    order_by: z.enum(["earliest", "latest", "seeing", "depth"]).optional(),
    ...pagingFields(deps.limits),
  }).strict().refine((q) => (q.ra === undefined) === (q.dec === undefined), {
    message: "give ra and dec together",
    path: ["dec"],
  });
  app.get("/images", async (c) => {
    const q = parseQuery(c, schema);
    const limit = q.limit ?? deps.limits.defaultPageSize, offset = q.offset ?? 0;
    let query = queryImages({
      target: q.target,
      sectionId: q.section_id,
      filter: q.filter,
      instrument: q.instrument,
      minMjd: q.min_mjd,
      maxMjd: q.max_mjd,
      ra: q.ra,
      dec: q.dec,
      minSeeing: q.min_seeing,
      maxSeeing: q.max_seeing,
      minLimMag: q.min_lim_mag,
      maxLimMag: q.max_lim_mag,
      provenanceTag: q.provenance_tag,
      type: q.type,
      goodOnly: q.good_only,
      orderBy: q.order_by,
      limit: limit + 1,
      offset,
    });
    if (q.exposure_id !== undefined) query = query.where("i.exposure_id = $1", [q.exposure_id]);
    const rows = await query.rows(deps.db);
    return c.json(page(c, rows.map((r) => imageJson(r, false)), limit, offset));
  });
  app.get("/images/:id", async (c) => {
    const id = uuidParam(c, "id");
    const rows = await queryImages().where("i.id = $1", [id]).rows(deps.db);
    if (rows.length === 0) throw Problem.notFound(`no image ${id}`);
    return c.json(imageJson(rows[0], true));
  });
  return app;
}
