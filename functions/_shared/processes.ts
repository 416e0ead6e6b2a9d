/**
 * The pipeline's processes (steps) by the names that enter provenances, in
 * chain order, with their upstream processes (DESIGN.md, "The step contract").
 *
 * @module
 */

/** The per-image chain, in the order steps run. */
export const CHAIN = [
  "preprocessing",
  "extraction",
  "astrocal",
  "photocal",
  "subtraction",
  "detection",
  "cutting",
  "measuring",
  "scoring",
  "alerting",
] as const;

/** Every process name: the chain, plus fakes, references and the platform's own. */
export const PROCESSES = [
  "exposure",
  ...CHAIN,
  "fakeinjection",
  "coaddition",
  "referencing",
  "headersummary",
] as const;

/** A process name. */
export type Process = typeof PROCESSES[number];

/** The upstream processes of each process (coaddition's are its inputs' photocal). */
export const UPSTREAMS: Readonly<Record<Process, readonly Process[]>> = {
  exposure: [],
  headersummary: ["exposure"],
  preprocessing: ["exposure"],
  extraction: ["preprocessing"],
  astrocal: ["extraction"],
  photocal: ["astrocal"],
  subtraction: ["photocal", "referencing"],
  detection: ["subtraction"],
  cutting: ["detection"],
  measuring: ["cutting"],
  scoring: ["measuring"],
  alerting: ["scoring"],
  fakeinjection: ["photocal"],
  coaddition: ["photocal"],
  referencing: ["photocal"],
};

/** The step after `step` in the chain, or null at its end (or off the chain). */
export function nextInChain(step: Process): Process | null {
  const i = (CHAIN as readonly string[]).indexOf(step);
  return i >= 0 && i < CHAIN.length - 1 ? CHAIN[i + 1] : null;
}
