/**
 * Serving the API: `Deno.serve` on the app of {@linkcode createApp}. `skydiff
 * serve [--port N] [--hostname H]` calls {@linkcode serveApi} on the configured
 * services (scripts/cli.ts).
 *
 * @module
 */
import { Logger } from "../_shared/log.ts";
import { stopSignal } from "../_shared/runtime/worker.ts";
import { openServices, type ServiceSettings } from "../_shared/services.ts";
import { createApp } from "./app.ts";
import type { ApiDeps } from "./deps.ts";
import { openJobQueue } from "./jobs.ts";

/** Options of {@linkcode serveApi}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one (see the returned server's `addr`). @default 8080 */
  port?: number;
  /** Interface to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** Stops the server when aborted. @default none */
  signal?: AbortSignal;
  /** Called once listening. @default none */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** Starts the API on `deps`; resolves `server.finished` when it stops. */
export function serveApi(deps: ApiDeps, options: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const app = createApp(deps);
  return Deno.serve({
    port: options.port ?? 8080,
    hostname: options.hostname ?? "127.0.0.1",
    signal: options.signal,
    onListen: (addr) => options.onListen?.(addr),
  }, app.fetch);
}

/** Parses `--port N` and `--hostname H` of `skydiff serve`. */
export function parseServeArgs(args: string[]): { port: number; hostname: string } {
  let port = 8080, hostname = "127.0.0.1";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--port") {
      port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--port must be an integer in 0..65535`);
      }
    } else if (a === "--hostname") hostname = value();
    else throw new Error(`unknown option "${a}" (serve takes --port N and --hostname H)`);
  }
  return { port, hostname };
}

/** The sections {@linkcode serveCommand} reads. */
export interface ServeConfig extends ServiceSettings {
  log: { level: "debug" | "info" | "warn" | "error" };
}

/**
 * `skydiff serve [--port N] [--hostname H]`: opens the configured services and
 * the jobs queue, serves until SIGTERM / SIGINT, then closes them. Embedded mode
 * (no db url) migrates its database first, as the other commands do.
 */
export async function serveCommand(config: ServeConfig, args: string[]): Promise<number> {
  const { port, hostname } = parseServeArgs(args);
  const log = new Logger({ step: "api" }, config.log.level);
  const services = await openServices(config, { migrate: config.db.url === "" });
  try {
    const jobs = await openJobQueue(config.queue, services.db);
    try {
      const signal = stopSignal((name) => log.info(`${name} received: stopping the API`));
      const server = serveApi({ db: services.db, store: services.store, jobs, log }, {
        port,
        hostname,
        signal,
        onListen: (addr) =>
          log.info("api listening", {
            url: `http://${addr.hostname}:${addr.port}/`,
            db: services.db.kind,
            store: services.store.kind,
            jobs: `${jobs.kind}:${jobs.name}`,
          }),
      });
      await server.finished;
      return 0;
    } finally {
      await jobs.close();
    }
  } finally {
    await services.close();
  }
}
