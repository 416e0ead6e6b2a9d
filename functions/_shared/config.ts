/**
 * Layered configuration. Layers, lowest first:
 *
 * 1. `config/default.yaml`: every parameter, with its default and a comment;
 * 2. the file named by `SKYDIFF_CONFIG`, else `config/local_overrides.yaml` if present;
 * 3. overrides passed in code.
 *
 * Each layer is merged onto the ones below (objects merge key by key; scalars and
 * arrays replace) and the result is validated by the section schemas, so an
 * unknown or mistyped key is a {@linkcode ConfigError} naming the key and the
 * layer that brought it.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./errors.ts";

/** One layer: where it came from (a file path, or a label) and its values. */
export interface ConfigLayer {
  source: string;
  values: Record<string, unknown>;
}

/** A plain object (not an array, not null). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `top` onto `base`: objects key by key, anything else replaced. */
export function deepMerge(
  base: Record<string, unknown>,
  top: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key])
      ? deepMerge(out[key] as Record<string, unknown>, value)
      : value;
  }
  return out;
}

/** Reads a YAML file as a config layer; an empty file is an empty layer. */
export async function readYamlLayer(path: string): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, path, "");
  }
  let values: unknown;
  try {
    values = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message}`, path, "");
  }
  if (!isPlainObject(values)) {
    throw new ConfigError(`${path}: the top level must be a mapping of sections`, path, "");
  }
  return { source: path, values };
}

/**
 * Merges layers in order and validates after each one, so the first layer that
 * makes the configuration invalid is the one named in the error.
 */
export function resolveLayers<S extends z.ZodType>(
  schema: S,
  layers: readonly ConfigLayer[],
): z.infer<S> {
  let merged: Record<string, unknown> = {};
  let result: z.infer<S> | undefined;
  for (const layer of layers) {
    merged = deepMerge(merged, layer.values);
    const parsed = schema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        const key = [path, issue.keys[0]].filter(Boolean).join(".");
        throw new ConfigError(`${layer.source}: unknown key "${key}"`, layer.source, key);
      }
      throw new ConfigError(`${layer.source}: key "${path}": ${issue.message}`, layer.source, path);
    }
    result = parsed.data;
  }
  if (result === undefined) return schema.parse({});
  return result;
}

/** Where the layers come from. */
export interface ConfigFiles {
  /** The defaults file. @default "config/default.yaml" (from the repository root) */
  defaults?: string;
  /** The override file; `null` for none. @default $SKYDIFF_CONFIG, else config/local_overrides.yaml if present */
  overrides?: string | null;
}

const REPO_ROOT = new URL("../../", import.meta.url);

/** The repository's config/default.yaml path. */
export const DEFAULT_CONFIG_PATH = new URL("config/default.yaml", REPO_ROOT).pathname;

/** Finds the override file per the layering rule, or null. */
export function findOverrideFile(): string | null {
  const named = Deno.env.get("SKYDIFF_CONFIG");
  if (named) return named;
  const local = new URL("config/local_overrides.yaml", REPO_ROOT).pathname;
  try {
    Deno.statSync(local);
    return local;
  } catch {
    return null;
  }
}

/** Loads defaults < override file < code overrides and validates them with `schema`. */
export async function loadLayeredConfig<S extends z.ZodType>(
  schema: S,
  overrides: Record<string, unknown> = {},
  files: ConfigFiles = {},
): Promise<z.infer<S>> {
  const layers = [await readYamlLayer(files.defaults ?? DEFAULT_CONFIG_PATH)];
  const overrideFile = files.overrides === undefined ? findOverrideFile() : files.overrides;
  if (overrideFile) layers.push(await readYamlLayer(overrideFile));
  if (Object.keys(overrides).length > 0) {
    layers.push({ source: "overrides passed in code", values: overrides });
  }
  return resolveLayers(schema, layers);
}
