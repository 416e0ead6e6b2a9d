/**
 * POST /coadds, POST /references (202 + a job), GET /jobs/:id.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { ResolvedDeps } from "../deps.ts";
import { CoaddRequestSchema, getJob, jobJson, ReferenceRequestSchema, submitJob } from "../jobs.ts";
import { Problem } from "../problem.ts";
import { parseJsonBody, uuidParam } from "../validate.ts";

/** The job routes. */
export function jobRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  const submit = (kind: "coadd" | "reference") => async (c: Context) => {
    const request = kind === "coadd"
      ? await parseJsonBody(c, CoaddRequestSchema)
      : await parseJsonBody(c, ReferenceRequestSchema);
    let job;
    try {
      job = await submitJob(deps.db, deps.jobs, kind, request);
    } catch (err) {
      deps.log.error("job not queued", { kind, error: (err as Error).message });
      throw Problem.unavailable(`the ${kind} job could not be queued`);
    }
    c.header("location", `/jobs/${job.id}`);
    return c.json(jobJson(job), 202);
  };
  app.post("/coadds", submit("coadd"));
  app.post("/references", submit("reference"));
  app.get("/jobs/:id", async (c) => {
    const id = uuidParam(c, "id");
    const job = await getJob(deps.db, id);
    if (!job) throw Problem.notFound(`no job ${id}`);
    return c.json(jobJson(job));
  });
  return app;
}
