/**
 * Structured logs: one JSON object per line on stdout, as CloudWatch ingests them.
 * Every line has `time`, `level`, `message`, and when known `step`, `trace_id`,
 * `exposure`, `section`; anything else goes under `fields`.
 *
 * @module
 */

/** Log levels, in increasing severity. */
export const LEVELS = ["debug", "info", "warn", "error"] as const;
/** A log level. */
export type Level = typeof LEVELS[number];

/** Context carried by a logger and stamped on each line. */
export interface LogContext {
  step?: string;
  trace_id?: string;
  exposure?: string;
  section?: string;
}

/** One log line as written. */
export interface LogLine extends LogContext {
  time: string;
  level: Level;
  message: string;
  fields?: Record<string, unknown>;
}

/** Where lines go; replaceable in tests. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();
const stdoutSink: LogSink = (line) => {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
};

/** A structured logger; `child()` adds context. */
export class Logger {
  constructor(
    readonly context: LogContext = {},
    /** Lines below this level are dropped. @default "info" */
    readonly minLevel: Level = "info",
    private readonly sink: LogSink = stdoutSink,
  ) {}

  /** A logger with more context (e.g. the step and trace of one message). */
  child(context: LogContext): Logger {
    return new Logger({ ...this.context, ...context }, this.minLevel, this.sink);
  }

  /** Writes one line if `level` is at least the logger's minimum. */
  log(level: Level, message: string, fields?: Record<string, unknown>): void {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.minLevel)) return;
    const line: LogLine = { time: new Date().toISOString(), level, message, ...this.context };
    if (fields && Object.keys(fields).length > 0) line.fields = fields;
    this.sink(JSON.stringify(line, jsonSafe));
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
}

/** JSON.stringify replacer: bigints as strings, errors as their name and message. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** Parses a log level name, case-insensitively; throws on an unknown one. */
export function parseLevel(name: string): Level {
  const level = name.toLowerCase() as Level;
  if (!LEVELS.includes(level)) {
    throw new Error(`unknown log level "${name}"; use ${LEVELS.join(", ")}`);
  }
  return level;
}
