/**
 * GET /exposures: exposures, paged, filtered by instrument, filter, target,
 * project and MJD range, oldest first. GET /exposures/:id: one, with its header.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { ResolvedDeps } from "../deps.ts";
import { Problem } from "../problem.ts";
import { parseQuery, queryNumber, uuidParam } from "../validate.ts";
import { page, pagingFields } from "./_paging.ts";

const text = z.string().trim().min(1).max(64);

const EXPOSURE_COLUMNS = `id, provenance_id, instrument, telescope, project, target,
  origin_identifier, filter, mjd, exp_time, airmass, n_sections, ra, dec, filepath, md5,
  _bitflag, _upstream_bitflag, created_at`;

function exposureJson(r: Record<string, unknown>): Record<string, unknown> {
  return {
    ...r,
    links: {
      self: `/exposures/${r.id}`,
      provenance: `/provenances/${r.provenance_id}`,
      images: `/images?exposure_id=${r.id}`,
    },
  };
}

/** The exposure routes. */
export function exposureRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  const schema = z.object({
    instrument: text.optional(),
    filter: text.optional(),
    target: text.optional(),
    project: text.optional(),
    min_mjd: queryNumber.optional(),
    max_mjd: queryNumber.optional(),
    ...pagingFields(deps.limits),
  }).strict();
  app.get("/exposures", async (c) => {
    const q = parseQuery(c, schema);
    const limit = q.limit ?? deps.limits.defaultPageSize, offset = q.offset ?? 0;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (q.instrument !== undefined) add("instrument = ?", q.instrument);
    if (q.filter !== undefined) add("filter = ?", q.filter);
    if (q.target !== undefined) add("target = ?", q.target);
    if (q.project !== undefined) add("project = ?", q.project);
    if (q.min_mjd !== undefined) add("mjd >= ?::float8", q.min_mjd);
    if (q.max_mjd !== undefined) add("mjd <= ?::float8", q.max_mjd);
    const rows = await deps.db.query(
      `SELECT ${EXPOSURE_COLUMNS} FROM exposures
        ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY mjd, id LIMIT ${limit + 1} OFFSET ${offset}`,
      params,
    );
    return c.json(page(c, rows.map(exposureJson), limit, offset));
  });
  app.get("/exposures/:id", async (c) => {
    const id = uuidParam(c, "id");
    const rows = await deps.db.query(
      `SELECT ${EXPOSURE_COLUMNS}, header FROM exposures WHERE id = $1`,
      [id],
    );
    if (rows.length === 0) throw Problem.notFound(`no exposure ${id}`);
    return c.json(exposureJson(rows[0]));
  });
  return app;
}
