/**
 * The whole configuration: the platform's sections and one section per step,
 * named by its process and validated by the step's parameter schema.
 *
 * @module
 */
import { z } from "zod";
import { loadLayeredConfig } from "./_shared/config.ts";
import { PLATFORM_SECTIONS } from "./_shared/settings.ts";
import { STEPS } from "./steps.ts";

const stepSections = Object.fromEntries(
  STEPS.map((entry) => [entry.step.process, entry.step.params.prefault({})]),
);

/** The schema of the whole configuration. */
export const ConfigSchema = z.object({ ...PLATFORM_SECTIONS, ...stepSections }).strict();

/** The validated configuration. */
export type Config = z.infer<typeof ConfigSchema> & Record<string, Record<string, unknown>>;

/**
 * Loads config/default.yaml < $SKYDIFF_CONFIG (else config/local_overrides.yaml)
 * < `overrides`, validated; errors name the key and the file.
 */
export async function loadConfig(
  overrides: Record<string, unknown> = {},
  files?: { defaults?: string; overrides?: string | null },
): Promise<Config> {
  return await loadLayeredConfig(ConfigSchema, overrides, files) as Config;
}
