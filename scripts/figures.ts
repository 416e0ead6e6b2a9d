/**
 * `deno task bench|crossval|quality [group...] [--small]`: runs figure groups
 * from tests/<kind>/ and prints one JSON object per figure on stdout; progress
 * goes to stderr. Exits 1 when a crossval or quality figure is not ok.
 *
 * @module
 */
import { CHECKED_KINDS, type FigureKind, listGroups, loadGroup } from "../tests/figure.ts";

const KINDS: FigureKind[] = ["bench", "crossval", "quality"];

async function main(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (!KINDS.includes(kind as FigureKind)) {
    console.error(`usage: figures.ts <${KINDS.join("|")}> [group...] [--small]`);
    return 2;
  }
  const small = rest.includes("--small");
  const wanted = rest.filter((a) => !a.startsWith("--"));
  const available = await listGroups(kind as FigureKind);
  const unknown = wanted.filter((g) => !available.includes(g));
  if (unknown.length > 0) {
    console.error(`unknown ${kind} group(s): ${unknown.join(", ")}; have: ${available.join(", ")}`);
    return 2;
  }
  const groups = wanted.length > 0 ? wanted : available;
  let failures = 0;
  for (const group of groups) {
    const run = await loadGroup(kind as FigureKind, group);
    const progress = (message: string) => console.error(`[${kind} ${group}] ${message}`);
    for await (const figure of run({ small, progress })) {
      console.log(JSON.stringify(figure));
      if (CHECKED_KINDS.includes(kind as FigureKind) && figure.ok === false) failures++;
    }
  }
  if (failures > 0) console.error(`${failures} ${kind} figure(s) not ok`);
  return failures > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
