/**
 * Request validation with zod: query strings, path parameters and JSON bodies
 * parsed by a schema, or a 400 {@linkcode Problem} naming the invalid field.
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { type InvalidParam, type ParamLocation, Problem } from "./problem.ts";

function issuesToParams(error: z.ZodError, where: ParamLocation): InvalidParam[] {
  return error.issues.map((issue) => {
    const name = issue.code === "unrecognized_keys"
      ? issue.keys.join(",")
      : issue.path.map(String).join(".") || "(body)";
    return { name, in: where, reason: issue.message };
  });
}

/** Parses `value` with `schema`, or throws a 400 naming the invalid fields. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: ParamLocation,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw Problem.invalid(issuesToParams(result.error, where));
  return result.data;
}

/** The query string (first value of each key) parsed by `schema`. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return parseOr400(schema, c.req.query(), "query");
}

/** The JSON body parsed by `schema`: 415 unless JSON, 400 when malformed or invalid. */
export async function parseJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<z.infer<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw Problem.unsupportedMediaType(
      `the body must be application/json (got "${type || "no content-type"}")`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch (err) {
    throw Problem.invalid([{
      name: "(body)",
      in: "body",
      reason: `not JSON: ${(err as Error).message}`,
    }]);
  }
  return parseOr400(schema, json, "body");
}

/** A UUID path parameter, or a 400. */
export function uuidParam(c: Context, name: string): string {
  return parseOr400(z.object({ [name]: z.uuid() }), { [name]: c.req.param(name) }, "path")[
    name
  ] as string;
}

const queryString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? "required" : undefined) });

/** A number from a query string (empty strings and non-numbers fail). */
export const queryNumber = queryString().trim().min(1, "required").transform(Number).pipe(
  z.number(),
);

/** An integer from a query string. */
export const queryInt = queryString().trim().min(1, "required").transform(Number).pipe(z.int());
