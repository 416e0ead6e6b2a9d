/**
 * Every step this build knows: its declaration and its handler. Workers dispatch
 * by process name through this table; the configuration has one section per step.
 *
 * @module
 */
import type { Handler } from "./_shared/runtime/handler.ts";
import type { StepDefinition } from "./_shared/runtime/step.ts";
import { handleHeaderSummary } from "./headersummary/handler.ts";
import { headerSummaryStep } from "./headersummary/step.ts";
import { handlePreprocessing } from "./preprocessing/handler.ts";
import { preprocessingStep } from "./preprocessing/step.ts";
import { handleExtraction } from "./extraction/handler.ts";
import { extractionStep } from "./extraction/step.ts";
import { handleAstrocal } from "./astrocal/handler.ts";
import { astrocalStep } from "./astrocal/step.ts";
import { handlePhotocal } from "./photocal/handler.ts";
import { photocalStep } from "./photocal/step.ts";
import { handleCoaddition } from "./coaddition/handler.ts";
import { coadditionStep } from "./coaddition/step.ts";

/** A step and its handler. */
export interface StepEntry {
  // deno-lint-ignore no-explicit-any
  step: StepDefinition<any, any, any, any>;
  handler: Handler;
}

/** The steps, in no particular order. */
export const STEPS: readonly StepEntry[] = [
  { step: headerSummaryStep, handler: handleHeaderSummary },
  { step: preprocessingStep, handler: handlePreprocessing },
  { step: extractionStep, handler: handleExtraction },
  { step: astrocalStep, handler: handleAstrocal },
  { step: photocalStep, handler: handlePhotocal },
  { step: coadditionStep, handler: handleCoaddition },
];

/** Handlers by process name, for the dispatcher. */
export const HANDLERS: Record<string, Handler> = Object.fromEntries(
  STEPS.map((entry) => [entry.step.process, entry.handler]),
);
