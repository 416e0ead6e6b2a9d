/**
 * Figures: the machine-readable numbers that `deno task bench|crossval|quality`
 * print, one JSON object per line on stdout.
 *
 * A figure group is a module `tests/<kind>/<group>.ts` whose default export is a
 * {@linkcode FigureGroup}. The same group runs at full size for people
 * (`deno task crossval core`) and at small size inside `deno task test`
 * (tests/figures_test.ts), where every crossval and quality figure must be ok.
 *
 * @module
 */

/** Kinds of figures, each a folder under tests/. */
export type FigureKind = "bench" | "crossval" | "quality";

/** A benchmark timing, as DESIGN.md prints it. */
export interface BenchFigure {
  bench: string;
  wall_ms: number;
  peak_mb: number;
  native_ms?: number;
  ratio?: number;
  ref?: string;
  ref_ms?: number;
  [extra: string]: unknown;
}

/** The same input through a reference tool: our number against theirs. */
export interface CrossvalFigure {
  crossval: string;
  value: number;
  tolerance: number;
  ok: boolean;
  [extra: string]: unknown;
}

/** Our output against simulated truth. */
export interface QualityFigure {
  quality: string;
  value: number;
  target: number;
  ok: boolean;
  [extra: string]: unknown;
}

export type Figure = BenchFigure | CrossvalFigure | QualityFigure;

/** Options every figure group receives. */
export interface FigureOptions {
  /** Small inputs (the test suite) instead of full-size ones (people). @default false */
  small: boolean;
  /** Writes human progress to stderr. */
  progress: (message: string) => void;
}

/** A group of figures: yields them as they are measured. */
export type FigureGroup = (options: FigureOptions) => AsyncIterable<Figure>;

/** Kinds whose figures are pass/fail and so run inside the test suite. */
export const CHECKED_KINDS: readonly FigureKind[] = ["crossval", "quality"];

/** Lists the groups of a kind: the `.ts` files in tests/<kind>/ that are not tests or private. */
export async function listGroups(kind: FigureKind): Promise<string[]> {
  const dir = new URL(`./${kind}/`, import.meta.url);
  const groups: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const name = entry.name;
    if (!entry.isFile || !name.endsWith(".ts") || name.startsWith("_")) continue;
    if (name.endsWith("_test.ts")) continue;
    groups.push(name.slice(0, -3));
  }
  return groups.sort();
}

/** Loads a group module by kind and name. */
export async function loadGroup(kind: FigureKind, group: string): Promise<FigureGroup> {
  const mod = await import(new URL(`./${kind}/${group}.ts`, import.meta.url).href);
  if (typeof mod.default !== "function") {
    throw new Error(`tests/${kind}/${group}.ts has no default export of a figure group`);
  }
  return mod.default as FigureGroup;
}

/** Peak resident memory of this process so far, in MB (Linux VmHWM; else current RSS). */
export function peakMemoryMb(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = status.match(/VmHWM:\s+(\d+)\s+kB/);
    if (match) return Math.round(Number(match[1]) / 1024);
  } catch {
    // not Linux: fall through
  }
  return Math.round(Deno.memoryUsage().rss / (1024 * 1024));
}

/** Builds a crossval figure whose ok is |value| <= tolerance. */
export function within(name: string, value: number, tolerance: number): CrossvalFigure {
  return {
    crossval: name,
    value,
    tolerance,
    ok: Number.isFinite(value) && Math.abs(value) <= tolerance,
  };
}

/** Builds a quality figure; `atMost` decides whether the target is an upper or lower bound. */
export function target(
  name: string,
  value: number,
  goal: number,
  atMost = true,
): QualityFigure {
  const ok = Number.isFinite(value) && (atMost ? value <= goal : value >= goal);
  return { quality: name, value, target: goal, ok, bound: atMost ? "max" : "min" };
}
