/**
 * `skydiff logs`: filters a JSON-lines log by trace, step, level and time range,
 * and can follow the file as it grows (like `tail -f`). Lines that are not JSON
 * pass through only when no filter is given.
 *
 * @module
 */
import { type Level, LEVELS, type LogLine, parseLevel } from "../../functions/_shared/log.ts";

/** What to keep. */
export interface LogFilter {
  trace?: string;
  step?: string;
  /** Minimum level. */
  level?: Level;
  /** Inclusive lower bound on `time`. */
  since?: Date;
  /** Exclusive upper bound on `time`. */
  until?: Date;
  exposure?: string;
  section?: string;
}

/** True when a filter has no condition. */
function isEmpty(filter: LogFilter): boolean {
  return Object.values(filter).every((v) => v === undefined);
}

/** Whether one raw log line passes the filter. */
export function matchesFilter(raw: string, filter: LogFilter): boolean {
  let line: LogLine;
  try {
    line = JSON.parse(raw);
  } catch {
    return isEmpty(filter);
  }
  if (typeof line !== "object" || line === null) return isEmpty(filter);
  if (filter.trace && line.trace_id !== filter.trace) return false;
  if (filter.step && line.step !== filter.step) return false;
  if (filter.exposure && line.exposure !== filter.exposure) return false;
  if (filter.section && line.section !== filter.section) return false;
  if (filter.level && LEVELS.indexOf(line.level) < LEVELS.indexOf(filter.level)) return false;
  if (filter.since || filter.until) {
    const time = Date.parse(line.time);
    if (Number.isNaN(time)) return false;
    if (filter.since && time < filter.since.getTime()) return false;
    if (filter.until && time >= filter.until.getTime()) return false;
  }
  return true;
}

/** Splits a stream of byte chunks into lines, keeping a partial last line for later. */
export class LineSplitter {
  #rest = "";
  #decoder = new TextDecoder();

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Uint8Array): string[] {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#rest = lines.pop() ?? "";
    return lines.filter((l) => l.length > 0);
  }

  /** The partial line left at the end of the input, if any. */
  flush(): string[] {
    const rest = this.#rest;
    this.#rest = "";
    return rest.length > 0 ? [rest] : [];
  }
}

function parseTime(flag: string, value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`${flag}: "${value}" is not an ISO date/time`);
  return date;
}

/** Parses `skydiff logs` arguments. */
export function parseLogsArgs(
  args: string[],
): { file: string; follow: boolean; filter: LogFilter } {
  const filter: LogFilter = {};
  let follow = false;
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--trace":
        filter.trace = value();
        break;
      case "--step":
        filter.step = value();
        break;
      case "--level":
        filter.level = parseLevel(value());
        break;
      case "--since":
        filter.since = parseTime(arg, value());
        break;
      case "--until":
        filter.until = parseTime(arg, value());
        break;
      case "--exposure":
        filter.exposure = value();
        break;
      case "--section":
        filter.section = value();
        break;
      case "-f":
      case "--follow":
        follow = true;
        break;
      default:
        if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
        if (file !== undefined) throw new Error(`one log file at a time (got ${file} and ${arg})`);
        file = arg;
    }
  }
  if (file === undefined) throw new Error("name the log file to read (or - for stdin)");
  return { file, follow, filter };
}

/**
 * Writes the matching lines of `file` to `write`; with `follow`, keeps reading as
 * the file grows until `signal` aborts (file-change events, no polling loop).
 */
export async function filterLog(
  file: string,
  filter: LogFilter,
  write: (line: string) => void,
  options: { follow?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  const splitter = new LineSplitter();
  const emit = (lines: string[]) => {
    for (const line of lines) if (matchesFilter(line, filter)) write(line);
  };
  if (file === "-") {
    for await (const chunk of Deno.stdin.readable) emit(splitter.push(chunk));
    emit(splitter.flush());
    return;
  }
  using handle = await Deno.open(file, { read: true });
  const buffer = new Uint8Array(64 * 1024);
  const drain = async () => {
    while (true) {
      const n = await handle.read(buffer);
      if (n === null || n === 0) break;
      emit(splitter.push(buffer.subarray(0, n)));
    }
  };
  if (!options.follow) {
    await drain();
    emit(splitter.flush());
    return;
  }
  // watch before the first read, so a write right after it is not missed
  using watcher = Deno.watchFs(file);
  options.signal?.addEventListener("abort", () => watcher.close(), { once: true });
  await drain();
  for await (const event of watcher) {
    if (event.kind === "modify" || event.kind === "any") await drain();
  }
  emit(splitter.flush());
}
