/**
 * Provenance ids: every product is versioned by the hash of what made it.
 *
 * `id = base32(sha256(canonical_json({process, code_version: "MAJOR.MINOR",
 * parameters, upstreams: sorted upstream ids})))[0:20]`, canonical JSON as in
 * RFC 8785 (JCS).
 *
 * @module
 */

/** What a provenance is computed from. */
export interface ProvenanceInput {
  /** The process name (see processes.ts). */
  process: string;
  /** The step's full semver CODE_VERSION; only MAJOR.MINOR enters the hash. */
  codeVersion: string;
  /** The step's critical parameters (those that change the output). */
  parameters: Record<string, unknown>;
  /** Ids of the upstream provenances, in any order. */
  upstreams: readonly string[];
}

/** MAJOR.MINOR of a semver string; throws on a malformed one. */
export function majorMinor(codeVersion: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(codeVersion);
  if (!match) throw new Error(`code version "${codeVersion}" is not semver MAJOR.MINOR.PATCH`);
  return `${match[1]}.${match[2]}`;
}

/**
 * Canonical JSON (RFC 8785): object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings serialised as ECMAScript does. Rejects values
 * JSON cannot represent (undefined inside arrays, NaN, Infinity, functions, bigint).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`canonical JSON cannot hold ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v)).join(",")}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new Error(`canonical JSON cannot hold a ${typeof value}`);
}

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (upper case, no padding). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** The length of a provenance id. */
export const PROVENANCE_ID_LENGTH = 20;

/** The canonical JSON document a provenance id hashes. */
export function provenanceDocument(input: ProvenanceInput): string {
  return canonicalJson({
    process: input.process,
    code_version: majorMinor(input.codeVersion),
    parameters: input.parameters,
    upstreams: [...new Set(input.upstreams)].sort(),
  });
}

/** Computes a provenance id. */
export async function provenanceId(input: ProvenanceInput): Promise<string> {
  const bytes = new TextEncoder().encode(provenanceDocument(input));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return base32(digest).slice(0, PROVENANCE_ID_LENGTH);
}
