/**
 * Object key rules shared by the adapters, so a key valid on one store is valid on all.
 *
 * @module
 */

/** Raised for a key no adapter accepts. */
export class InvalidKey extends Error {
  constructor(readonly key: string, why: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${why}`);
    this.name = "InvalidKey";
  }
}

/**
 * Checks an object key: non-empty, at most 1024 bytes, `/`-separated segments that
 * are neither empty, `.` nor `..`, no leading `/`, no NUL or control characters, and
 * no segment starting with `.skydiff-` (reserved for the local store's own files).
 */
export function checkKey(key: string): string {
  if (key.length === 0) throw new InvalidKey(key, "empty");
  if (new TextEncoder().encode(key).length > 1024) {
    throw new InvalidKey(key, "longer than 1024 bytes");
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidKey(key, "control character");
  if (key.startsWith("/")) throw new InvalidKey(key, "leading /");
  for (const seg of key.split("/")) {
    if (seg === "" || seg === "." || seg === "..") {
      throw new InvalidKey(key, `segment ${JSON.stringify(seg)}`);
    }
    if (seg.startsWith(".skydiff-")) throw new InvalidKey(key, "reserved segment prefix .skydiff-");
  }
  return key;
}

/** Checks a listing prefix: like a key, but may be empty or end with `/`. */
export function checkPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (body === "") throw new InvalidKey(prefix, "prefix is only /");
  checkKey(body);
  return prefix;
}
