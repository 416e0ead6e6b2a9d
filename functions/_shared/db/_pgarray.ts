/**
 * Private to the postgres.js adapter: Postgres array literals in both
 * directions. postgres.js 3.4 reads an unquoted NULL element as the string
 * "NULL" (and NaN for numbers); this parser returns null, as PGlite does.
 *
 * @module
 */

import { toInt8 } from "./_values.ts";

/** Parses one element's text into a JS value. */
export type ElementParser = (text: string) => unknown;

function hexToBytes(text: string): Uint8Array {
  if (!text.startsWith("\\x")) throw new Error(`bytea in escape format is not supported: ${text}`);
  const hex = text.slice(2);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const identity: ElementParser = (x) => x;
const float: ElementParser = (x) => Number.parseFloat(x);
const int: ElementParser = (x) => Number.parseInt(x, 10);

/** Element parsers of the array types the schema uses (array oid -> element parser). */
export const ARRAY_ELEMENT_PARSERS: Readonly<Record<number, ElementParser>> = {
  1000: (x) => x === "t", // bool[]
  1001: hexToBytes, // bytea[]
  1005: int, // int2[]
  1007: int, // int4[]
  1009: identity, // text[]
  1014: identity, // bpchar[]
  1015: identity, // varchar[]
  1016: toInt8, // int8[]
  1021: float, // float4[]
  1022: float, // float8[]
  1115: (x) => new Date(x), // timestamp[] (as postgres.js reads timestamp)
  1185: (x) => new Date(x), // timestamptz[]
  1231: identity, // numeric[] (exact, as text)
  2951: identity, // uuid[]
  199: (x) => JSON.parse(x), // json[]
  3807: (x) => JSON.parse(x), // jsonb[]
};

/** Parses a Postgres array literal such as `{1,NULL,"a \"b\""}` or `[0:1]={1,2}`. */
export function parsePgArray(text: string, element: ElementParser, delimiter = ","): unknown[] {
  let i = 0;
  if (text[0] === "[") {
    // explicit bounds, e.g. "[0:2]={...}": the bounds are dropped (JS arrays start at 0)
    i = text.indexOf("=") + 1;
  }
  const parseLevel = (): unknown[] => {
    if (text[i] !== "{") throw new Error(`malformed array literal at ${i}: ${text}`);
    i++;
    const out: unknown[] = [];
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      const c = text[i];
      if (c === "{") {
        out.push(parseLevel());
      } else if (c === '"') {
        i++;
        let s = "";
        while (text[i] !== '"') {
          if (text[i] === "\\") i++;
          if (i >= text.length) throw new Error(`unterminated quote in array literal: ${text}`);
          s += text[i++];
        }
        i++;
        out.push(element(s));
      } else {
        let j = i;
        while (j < text.length && text[j] !== delimiter && text[j] !== "}") j++;
        const raw = text.slice(i, j).trim();
        out.push(raw.toUpperCase() === "NULL" ? null : element(raw));
        i = j;
      }
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return out;
      }
      throw new Error(`malformed array literal at ${i}: ${text}`);
    }
  };
  return parseLevel();
}

function elementText(x: unknown): string {
  if (x instanceof Uint8Array) {
    return "\\x" + Array.from(x, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  if (x instanceof Date) return x.toISOString();
  if (typeof x === "object" && x !== null) return JSON.stringify(x);
  return String(x);
}

/**
 * A Postgres array literal of a (nested) JS array: every element quoted and
 * escaped, null as NULL. A string is passed through (already a literal).
 */
export function pgArrayLiteral(x: unknown): string {
  if (typeof x === "string") return x;
  if (!Array.isArray(x)) throw new TypeError(`expected an array, got ${typeof x}`);
  return "{" + x.map((e) => {
    if (e === null || e === undefined) return "NULL";
    if (Array.isArray(e)) return pgArrayLiteral(e);
    return '"' + elementText(e).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }).join(",") + "}";
}
