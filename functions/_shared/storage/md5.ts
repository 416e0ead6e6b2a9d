/**
 * MD5 helpers for object-store integrity checks (WebCrypto has no MD5, so this
 * uses `node:crypto`).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Hex MD5 of bytes. */
export function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** Base64 MD5 of bytes, as the Content-MD5 header wants it. */
export function md5Base64(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

/** Raw 16-byte MD5 of bytes. */
export function md5Raw(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("md5").update(data).digest());
}

/** True for a 32-character lowercase hex MD5. */
export function isMd5Hex(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}
