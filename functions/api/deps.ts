/**
 * What the API app is built from: injected services, so the app is testable
 * without a server (`app.request(...)`) and runs on any mode's adapters.
 *
 * @module
 */
import type { Db } from "../_shared/db/db.ts";
import type { Logger } from "../_shared/log.ts";
import type { Queue } from "../_shared/queue/queue.ts";
import type { ObjectStore } from "../_shared/storage/object_store.ts";
import type { CutoutsSource } from "./cutouts_source.ts";

/** Limits on what one request may ask for. */
export interface ApiLimits {
  /** Largest cone radius of GET /objects, arcsec. @default 3600 */
  maxRadiusArcsec: number;
  /** Largest page (`limit`) of list endpoints. @default 500 */
  maxPageSize: number;
  /** Page size when `limit` is not given. @default 50 */
  defaultPageSize: number;
  /** Seconds each backing service has to answer GET /health. @default 5 */
  healthTimeoutSeconds: number;
  /** Largest request body, bytes (413 above). @default 65536 */
  maxBodyBytes: number;
}

/** The defaults of {@linkcode ApiLimits}. */
export const DEFAULT_LIMITS: ApiLimits = Object.freeze({
  maxRadiusArcsec: 3600,
  maxPageSize: 500,
  defaultPageSize: 50,
  healthTimeoutSeconds: 5,
  maxBodyBytes: 65536,
});

/** The services of the API. */
export interface ApiDeps {
  db: Db;
  store: ObjectStore;
  /** The jobs queue (functions/api/jobs.ts jobQueueName), where POST /coadds and /references send. */
  jobs: Queue;
  /** Where cutout stamps come from. @default cutoutsFromStore(db, store) */
  cutouts?: CutoutsSource;
  /** Where unexpected errors are logged. @default a Logger on stdout */
  log?: Logger;
  /** Request limits. @default DEFAULT_LIMITS */
  limits?: Partial<ApiLimits>;
}

/** The deps with every default filled in. */
export interface ResolvedDeps extends Required<Omit<ApiDeps, "limits">> {
  limits: ApiLimits;
}
