/**
 * Command-line flags from a zod object schema: `--ref-epochs 8` sets `refEpochs`,
 * `--compress` / `--no-compress` set a boolean, `--seeing 0.9,1.4` a tuple or
 * array; values are validated by the schema, and help text comes from its
 * descriptions and defaults.
 *
 * @module
 */
import { z } from "zod";

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function innerType(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

function convert(schema: z.ZodType, text: string): unknown {
  const inner = innerType(schema);
  if (inner instanceof z.ZodNumber) return Number(text);
  if (inner instanceof z.ZodTuple || inner instanceof z.ZodArray) {
    return text.split(",").map((part) => {
      const n = Number(part);
      return part.trim() !== "" && Number.isFinite(n) ? n : part;
    });
  }
  return text;
}

/** Parses `args` into the schema's object; throws with the flag named when one is bad. */
export function parseFlags<S extends z.ZodObject>(schema: S, args: string[]): z.infer<S> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const values: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}"`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
    const negated = name.startsWith("no-") && !(camel(name) in shape);
    const key = camel(negated ? name.slice(3) : name);
    const field = shape[key];
    if (!field) throw new Error(`unknown option --${name}`);
    if (innerType(field) instanceof z.ZodBoolean) {
      values[key] = value === undefined ? !negated : value === "true";
      continue;
    }
    value ??= args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values[key] = convert(field, value);
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--${kebab(String(issue.path[0] ?? ""))}: ${issue.message}`);
  }
  return parsed.data;
}

/** One help line per option: flag, description, default. */
export function flagHelp(schema: z.ZodObject): string {
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) =>
    `  --${kebab(key).padEnd(22)} ${field.description ?? ""} [${JSON.stringify(defaults[key])}]`
  ).join("\n");
}
