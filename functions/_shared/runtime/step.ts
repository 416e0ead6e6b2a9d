/**
 * The step contract (DESIGN.md): a step declares its parameters (a zod schema
 * with defaults and descriptions), which of them are critical (enter the
 * provenance), its code version, inputs and outputs, and a pure `run()` that
 * does no I/O and keeps no state. Its handler does the I/O around `run()`.
 *
 * @module
 */
import type { z } from "zod";
import type { Process } from "../processes.ts";
import { majorMinor } from "../provenance.ts";

/** What `run()` returns: its products and numbers worth recording in the report. */
export interface StepResult<O> {
  outputs: O;
  metrics: Record<string, number>;
}

/** A step's declaration. `I`/`O` are its in-memory inputs and outputs; `C` the imaging core. */
export interface StepDefinition<P extends z.ZodObject, I, O, C = unknown> {
  /** The process name, as in provenances. */
  process: Process;
  /** Semver; MAJOR.MINOR enter the provenance: bump minor whenever output changes. */
  codeVersion: string;
  /** The parameters, each with its default and `.describe()`; must be `.strict()`. */
  params: P;
  /** The parameters that change the output (enter the provenance). */
  critical: readonly (keyof z.infer<P> & string)[];
  /** Names of the products it reads. */
  inputs: readonly string[];
  /** Names of the products it writes. */
  outputs: readonly string[];
  /** Pure computation on in-memory data. */
  run(inputs: I, params: z.infer<P>, core: C): Promise<StepResult<O>> | StepResult<O>;
}

/** Declares a step, checking its declaration once at load time. */
export function defineStep<P extends z.ZodObject, I, O, C = unknown>(
  step: StepDefinition<P, I, O, C>,
): StepDefinition<P, I, O, C> {
  majorMinor(step.codeVersion);
  const keys = Object.keys(step.params.shape);
  for (const name of step.critical) {
    if (!keys.includes(name)) {
      throw new Error(`step ${step.process}: critical parameter "${name}" is not a parameter`);
    }
  }
  for (const key of keys) {
    if (!step.params.shape[key].description) {
      throw new Error(`step ${step.process}: parameter "${key}" has no description`);
    }
  }
  return step;
}

/** The critical parameters of a step, from its full parameters: what enters the provenance. */
export function criticalParameters<P extends z.ZodObject>(
  step: Pick<StepDefinition<P, unknown, unknown>, "critical">,
  params: z.infer<P>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of [...step.critical].sort()) {
    out[name] = (params as Record<string, unknown>)[name];
  }
  return out;
}
