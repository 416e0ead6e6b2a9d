/**
 * Typed errors of the step contract. How the runtime treats each (DESIGN.md):
 *
 * | error | meaning | the message |
 * |---|---|---|
 * | {@linkcode NoWorkFound} | nothing to do here | acknowledged, the reason recorded |
 * | {@linkcode AlgorithmError} | the data are bad | acknowledged, badness bit set, recorded |
 * | {@linkcode InputError} | malformed message or product | dead-lettered with the message |
 * | anything else | transient or a bug | retried by the queue, then dead-lettered |
 *
 * @module
 */

/** Base class of the typed step errors; `fields` go into the log line and the report. */
export abstract class StepError extends Error {
  /** How the runtime disposes of the message. */
  abstract readonly disposition: "ack" | "dead_letter";
  constructor(message: string, readonly fields: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** There is nothing for this step to do (no reference for the field, section off-chip...). */
export class NoWorkFound extends StepError {
  readonly disposition = "ack";
}

/**
 * The data are bad in a way no retry fixes (too few stars, astrometry failed,
 * NaN-filled image). `badness` names the bit to set on the input product.
 */
export class AlgorithmError extends StepError {
  readonly disposition = "ack";
  constructor(message: string, readonly badness?: string, fields: Record<string, unknown> = {}) {
    super(message, fields);
  }
}

/** The message or an input product is malformed: no retry can succeed. */
export class InputError extends StepError {
  readonly disposition = "dead_letter";
}

/** A configuration file or override is invalid; names the file and the key. */
export class ConfigError extends Error {
  constructor(message: string, readonly file: string, readonly key: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** One-line description of any thrown value, for logs and reports. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
