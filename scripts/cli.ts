/**
 * `skydiff`: the command line. Run as `deno task skydiff <command>`.
 *
 * @module
 */
import { loadConfig } from "../functions/config.ts";
import type { Config } from "../functions/config.ts";
import { describeDb } from "../functions/_shared/db/open.ts";
import { migrate } from "../functions/_shared/db/migrate.ts";
import { reportSink } from "../functions/_shared/db/reports.ts";
import { describeError } from "../functions/_shared/errors.ts";
import { Logger } from "../functions/_shared/log.ts";
import { runWorker, stopSignal } from "../functions/_shared/runtime/worker.ts";
import { openServices } from "../functions/_shared/services.ts";
import { HANDLERS } from "../functions/steps.ts";
import { ingestObject, keysFromS3Event } from "../functions/ingest/ingest.ts";
import { buildMasters } from "../functions/calibrate/calibrate.ts";
import { configCommand } from "./commands/config.ts";
import { filterLog, parseLogsArgs } from "./commands/logs.ts";
import { demo } from "./commands/demo.ts";
import { serveCommand } from "../functions/api/serve.ts";
import { simulateCommand } from "./commands/simulate.ts";

const HELP = `skydiff — transient discovery for wide-field sky surveys

usage: deno task skydiff <command> [options]

commands:
  migrate                 apply pending sql/ migrations to the configured database
  worker [--until-empty]  poll the queue and run steps (SIGTERM/SIGINT: finish the message in hand, stop)
  calibrate --bias <file.fits>... --flat <file.fits>...
                          build master bias and flat frames per section and register them
  ingest <file.fits>...   store raw exposures, register them, queue their first step
  ingest --event <json>   the same from an S3 ObjectCreated event (a file, or - for stdin)
  run <file.fits>...      ingest, then work the queue until it is empty (one process)
  simulate [options]      write a simulated field (calibrations, reference and new epochs,
                          truth); simulate --help lists the options
  demo                    the end-to-end demo on the embedded defaults
  serve [--port N] [--hostname H]
                          the HTTP API (functions/api) on the configured services
                          (default 127.0.0.1:8080; SIGTERM/SIGINT stops it)
  logs [filters] <file>   filter a JSON-lines log: --trace --step --level --since --until
                          --exposure --section, -f/--follow
  config defaults|show    print default.yaml as the schemas define it / the effective config
  help                    this text

configuration: config/default.yaml < $SKYDIFF_CONFIG (else config/local_overrides.yaml)
`;

function logger(config: Config): Logger {
  return new Logger({}, config.log.level);
}

async function withServices<T>(
  config: Config,
  fn: (services: Awaited<ReturnType<typeof openServices>>, log: Logger) => Promise<T>,
): Promise<T> {
  const log = logger(config);
  // embedded mode owns its database: bring it up to date; servers migrate explicitly
  const services = await openServices(config, { migrate: config.db.url === "" });
  try {
    return await fn(services, log);
  } finally {
    await services.close();
  }
}

async function workQueue(config: Config, untilEmpty: boolean): Promise<number> {
  return await withServices(config, async (services, log) => {
    const signal = stopSignal((name) =>
      log.info(`${name} received: finishing the message in hand`)
    );
    log.info("worker started", {
      db: await describeDb(services.db),
      store: services.store.kind,
      queue: `${services.queue.kind}:${services.queue.name}`,
    });
    const stats = await runWorker({
      ...services,
      handlers: HANDLERS,
      config,
      log,
      reports: reportSink(services.db),
      signal,
      waitSeconds: config.worker.wait_seconds,
      batchSize: config.worker.batch_size,
      retryDelaySeconds: config.queue.retry_delay_seconds,
      untilEmpty,
    });
    log.info("worker stopped", stats);
    return 0;
  });
}

async function storeRaw(
  services: Awaited<ReturnType<typeof openServices>>,
  path: string,
): Promise<string> {
  const bytes = await Deno.readFile(path);
  const name = path.split("/").pop()!;
  const key = `raw/${name}`;
  const existing = await services.store.head(key);
  if (!existing) await services.store.put(key, bytes, { contentType: "application/fits" });
  return key;
}

async function ingestCommand(config: Config, args: string[], thenWork: boolean): Promise<number> {
  if (args.length === 0) {
    console.error("name raw exposure files (or --event <json>)");
    return 2;
  }
  await withServices(config, async (services, log) => {
    let keys: string[];
    if (args[0] === "--event") {
      const source = args[1] ?? "-";
      const text = source === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(source);
      keys = keysFromS3Event(JSON.parse(text));
    } else {
      keys = [];
      for (const path of args) keys.push(await storeRaw(services, path));
    }
    for (const key of keys) {
      const result = await ingestObject(services, key, {
        provenanceTag: config.pipeline.provenance_tag,
        firstStep: config.pipeline.first_step,
        throughStep: config.pipeline.through_step,
      });
      log.info(result.created ? "exposure registered" : "exposure already known", {
        key,
        exposure_id: result.exposureId,
        queued: result.messages.map((m) => m.step),
      });
    }
  });
  return thenWork ? await workQueue(config, true) : 0;
}

async function calibrateCommand(config: Config, args: string[]): Promise<number> {
  const groups: Record<"--bias" | "--flat", string[]> = { "--bias": [], "--flat": [] };
  let current: string[] | null = null;
  for (const arg of args) {
    if (arg === "--bias" || arg === "--flat") current = groups[arg];
    else if (current) current.push(arg);
    else throw new Error(`calibrate: put files after --bias or --flat (got ${arg})`);
  }
  return await withServices(config, async (services, log) => {
    const stored = async (paths: string[]) => {
      const keys: string[] = [];
      for (const path of paths) keys.push(await storeRaw(services, path));
      return keys;
    };
    const saved = await buildMasters(services, {
      biasKeys: await stored(groups["--bias"]),
      flatKeys: await stored(groups["--flat"]),
    }, (message) => log.info(message));
    for (const row of saved) {
      log.info("calibrator registered", {
        type: row.type,
        instrument: row.instrument,
        section: row.sectionId,
        filter: row.filter,
        valid_from: row.validFrom,
        key: row.filepath,
      });
    }
    return 0;
  });
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(HELP);
      return 0;
    case "logs": {
      const { file, follow, filter } = parseLogsArgs(rest);
      await filterLog(file, filter, (line) => console.log(line), {
        follow,
        signal: follow ? stopSignal() : undefined,
      });
      return 0;
    }
    case "config":
      return await configCommand(rest);
  }
  const config = await loadConfig();
  switch (command) {
    case "migrate":
      return await withServices(config, async (services, log) => {
        const result = await migrate(services.db);
        log.info("migrations applied", { ...result, db: await describeDb(services.db) });
        return 0;
      });
    case "worker":
      return await workQueue(config, rest.includes("--until-empty"));
    case "calibrate":
      return await calibrateCommand(config, rest);
    case "ingest":
      return await ingestCommand(config, rest, false);
    case "run":
      return await ingestCommand(config, rest, true);
    case "demo":
      return await demo(config, rest);
    case "serve":
      return await serveCommand(config, rest);
    case "simulate":
      return await simulateCommand(config, rest);
    default:
      console.error(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`skydiff: ${describeError(err)}`);
    Deno.exit(1);
  }
}
