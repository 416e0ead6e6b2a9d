/**
 * `skydiff simulate [options]`: writes a simulated field — calibration frames,
 * reference epochs, then new epochs with transients — and its truth, to a
 * directory (default data/sim) or, with `--to-store`, to the configured object
 * store; progress on stderr, the manifest path on stdout.
 *
 * @module
 */
import type { Config } from "../../functions/config.ts";
import { openServices } from "../../functions/_shared/services.ts";
import { simulateField, simulateOptionsSchema } from "../../functions/_shared/sim/simulate.ts";
import { flagHelp, parseFlags } from "./flags.ts";

/** Help text of the command. */
export function simulateHelp(): string {
  return `usage: skydiff simulate [--to-store] [options]\n\noptions:\n${
    flagHelp(simulateOptionsSchema)
  }`;
}

/** Runs the command; returns the exit code. */
export async function simulateCommand(config: Config, args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(simulateHelp());
    return 0;
  }
  const toStore = args.includes("--to-store");
  const options = parseFlags(simulateOptionsSchema, args.filter((a) => a !== "--to-store"));
  const progress = (p: { done: number; total: number; message: string }) =>
    console.error(`[simulate ${p.done}/${p.total}] ${p.message}`);
  if (!toStore) {
    const manifest = await simulateField(options, { progress });
    console.log(JSON.stringify({ out: options.out, exposures: manifest.exposures.length }));
    return 0;
  }
  const services = await openServices(config, { migrate: config.db.url === "" });
  try {
    const manifest = await simulateField(options, { progress, store: services.store });
    console.log(JSON.stringify({ prefix: options.out, exposures: manifest.exposures.length }));
    return 0;
  } finally {
    await services.close();
  }
}
