/**
 * GET /provenances/:id: a provenance with its code version, parameters, its
 * upstream and downstream provenances and the tags that hold it.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { PROCESS } from "../../_shared/db/enums.ts";
import type { ResolvedDeps } from "../deps.ts";
import { Problem } from "../problem.ts";
import { parseOr400 } from "../validate.ts";

const ProvenanceId = z.string().regex(/^[A-Z2-7]{20}$/, "a provenance id is 20 base32 characters");

/** The provenance routes. */
export function provenanceRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  app.get("/provenances/:id", async (c) => {
    const { id } = parseOr400(z.object({ id: ProvenanceId }), { id: c.req.param("id") }, "path");
    const rows = await deps.db.query<Record<string, unknown>>(
      `SELECT p.id, p.process, c.version AS code_version, p.parameters, p.is_bad, p.bad_comment,
              p.is_outdated, p.replaced_by, p.is_testing, p.created_at
         FROM provenances p JOIN code_versions c ON c.id = p.code_version_id WHERE p.id = $1`,
      [id],
    );
    if (rows.length === 0) throw Problem.notFound(`no provenance ${id}`);
    const link = (r: { id: string; process: number }) => ({
      id: r.id,
      process: PROCESS[r.process] ?? r.process,
      links: { self: `/provenances/${r.id}` },
    });
    const upstreams = await deps.db.query<{ id: string; process: number }>(
      `SELECT p.id, p.process FROM provenance_upstreams u JOIN provenances p ON p.id = u.upstream_id
        WHERE u.downstream_id = $1 ORDER BY p.process, p.id`,
      [id],
    );
    const downstreams = await deps.db.query<{ id: string; process: number }>(
      `SELECT p.id, p.process FROM provenance_upstreams u JOIN provenances p ON p.id = u.downstream_id
        WHERE u.upstream_id = $1 ORDER BY p.process, p.id`,
      [id],
    );
    const tags = await deps.db.query<{ tag: string }>(
      "SELECT tag FROM provenance_tags WHERE provenance_id = $1 ORDER BY tag",
      [id],
    );
    const row = rows[0];
    return c.json({
      ...row,
      process: PROCESS[Number(row.process)] ?? row.process,
      upstreams: upstreams.map(link),
      downstreams: downstreams.map(link),
      tags: tags.map((t) => t.tag),
      links: { self: `/provenances/${id}` },
    });
  });
  return app;
}
