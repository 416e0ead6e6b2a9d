/**
 * GET /health: whether the database, the object store and the jobs queue
 * answer (200 when all do, 503 otherwise), with each one's time.
 *
 * @module
 */
import { Hono } from "hono";
import type { ResolvedDeps } from "../deps.ts";

/** The health of one backing service. */
export interface Check {
  ok: boolean;
  ms: number;
  error?: string;
}

async function check(timeoutSeconds: number, probe: () => Promise<unknown>): Promise<Check> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer in ${timeoutSeconds} s`)),
          timeoutSeconds * 1000,
        );
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - t0), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** The health route. */
export function healthRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  app.get("/health", async (c) => {
    const t = deps.limits.healthTimeoutSeconds;
    const [db, store, queue] = await Promise.all([
      check(t, () => deps.db.query("SELECT 1 AS ok")),
      // a key that never exists: HEAD answers null when the store is reachable
      check(t, () => deps.store.head("health/probe")),
      check(t, () => deps.jobs.depth()),
    ]);
    const ok = db.ok && store.ok && queue.ok;
    c.header("cache-control", "no-store");
    return c.json({
      status: ok ? "ok" : "unavailable",
      checks: {
        db: { ...db, kind: deps.db.kind },
        store: { ...store, kind: deps.store.kind },
        queue: { ...queue, kind: deps.jobs.kind, name: deps.jobs.name },
      },
    }, ok ? 200 : 503);
  });
  return app;
}
