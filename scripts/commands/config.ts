/**
 * `skydiff config defaults|show`: prints config/default.yaml as the schemas
 * define it (every parameter, its default, its description as a comment), or
 * the effective configuration after all layers.
 *
 * @module
 */
import { stringify } from "yaml";
import { z } from "zod";
import { ConfigSchema, loadConfig } from "../../functions/config.ts";

/** Strips default/prefault/optional wrappers to reach the object or leaf schema. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (
    s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional
  ) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

function scalar(value: unknown): string {
  return stringify(value, { collectionStyle: "flow", flowCollectionPadding: false, lineWidth: 0 })
    .trimEnd();
}

/** Renders one object level: each key with its description as a comment above it. */
function renderObject(
  schema: z.ZodObject,
  values: Record<string, unknown>,
  indent: string,
): string[] {
  const lines: string[] = [];
  for (const [key, field] of Object.entries(schema.shape)) {
    const description = (field as z.ZodType).description;
    const inner = unwrap(field as z.ZodType);
    if (description) lines.push(`${indent}# ${description}`);
    if (inner instanceof z.ZodObject) {
      lines.push(`${indent}${key}:`);
      lines.push(...renderObject(inner, values[key] as Record<string, unknown>, indent + "  "));
    } else {
      lines.push(`${indent}${key}: ${scalar(values[key])}`);
    }
  }
  return lines;
}

/** config/default.yaml as the schemas define it. */
export function renderDefaults(): string {
  const values = ConfigSchema.parse({}) as Record<string, unknown>;
  const sections: string[] = [
    "# skydiff configuration: every parameter with its default.",
    "# Generated from the step and platform schemas by `skydiff config defaults`;",
    "# a test checks this file against them. Override in $SKYDIFF_CONFIG or",
    "# config/local_overrides.yaml (only the keys you change).",
  ];
  for (const [name, section] of Object.entries(ConfigSchema.shape)) {
    const inner = unwrap(section as z.ZodType) as z.ZodObject;
    sections.push(
      "",
      `${name}:`,
      ...renderObject(inner, values[name] as Record<string, unknown>, "  "),
    );
  }
  return sections.join("\n") + "\n";
}

/** Runs the command. */
export async function configCommand(args: string[]): Promise<number> {
  const [what] = args;
  if (what === "defaults") {
    await Deno.stdout.write(new TextEncoder().encode(renderDefaults()));
    return 0;
  }
  if (what === "show") {
    console.log(stringify(await loadConfig()));
    return 0;
  }
  console.error("usage: skydiff config defaults|show");
  return 2;
}
