/**
 * The HTTP API (Hono), built from injected services so it runs without a server
 * in tests (`await app.request("/health")`) and on every mode's adapters:
 *
 * | method | path | what |
 * |---|---|---|
 * | POST | /coadds | queue a coadd job `{ra, dec, filter, min_mjd?, max_mjd?, ...}` -> 202 + job |
 * | POST | /references | queue a reference job (same + `refset`) -> 202 + job |
 * | GET | /jobs/:id | a job's status, result or error |
 * | GET | /exposures | exposures, paged (instrument, filter, target, project, MJD range) |
 * | GET | /exposures/:id | one exposure with its header |
 * | GET | /images | the image query (functions/_shared/db/image_query.ts), paged |
 * | GET | /images/:id | one image with its header |
 * | GET | /objects?ra=&dec=&radius= | objects within radius (arcsec), nearest first |
 * | GET | /objects/:id, /objects/:id/measurements | an object; its measurements by MJD |
 * | GET | /cutouts/:id.png?index= | new / ref / sub stamps side by side (PNG) |
 * | GET | /provenances/:id | a provenance with upstreams, downstreams and tags |
 * | GET | /health | db, store and queue reachable (200) or not (503) |
 *
 * Errors are RFC 9457 problem details (functions/api/problem.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { Logger } from "../_shared/log.ts";
import { cutoutsFromStore } from "./cutouts_source.ts";
import { type ApiDeps, DEFAULT_LIMITS, type ResolvedDeps } from "./deps.ts";
import { Problem, problemResponse } from "./problem.ts";
import { cutoutRoutes } from "./routes/cutouts.ts";
import { exposureRoutes } from "./routes/exposures.ts";
import { healthRoutes } from "./routes/health.ts";
import { imageRoutes } from "./routes/images.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { objectRoutes } from "./routes/objects.ts";
import { provenanceRoutes } from "./routes/provenances.ts";

/** Builds the API app on `deps`. */
export function createApp(deps: ApiDeps): Hono {
  const resolved: ResolvedDeps = {
    db: deps.db,
    store: deps.store,
    jobs: deps.jobs,
    cutouts: deps.cutouts ?? cutoutsFromStore(deps.db, deps.store),
    log: deps.log ?? new Logger({ step: "api" }),
    limits: { ...DEFAULT_LIMITS, ...deps.limits },
  };
  const app = new Hono();
  app.onError((err, c) => {
    const path = new URL(c.req.url).pathname;
    if (err instanceof Problem) return problemResponse(err, path);
    resolved.log.error("request failed", {
      method: c.req.method,
      path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return problemResponse(Problem.internal(), path);
  });
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    return problemResponse(Problem.notFound(`no route ${c.req.method} ${path}`), path);
  });
  const maxSize = resolved.limits.maxBodyBytes;
  app.use(bodyLimit({
    maxSize,
    onError: (c) => problemResponse(Problem.tooLarge(maxSize), new URL(c.req.url).pathname),
  }));
  for (
    const routes of [
      jobRoutes,
      exposureRoutes,
      imageRoutes,
      objectRoutes,
      cutoutRoutes,
      provenanceRoutes,
      healthRoutes,
    ]
  ) {
    app.route("/", routes(resolved));
  }
  return app;
}
