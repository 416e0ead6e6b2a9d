/**
 * The object store interface: pixel products and raw exposures live here under
 * keys derived from the product and its provenance. Adapters: a local directory
 * (embedded mode) and S3 (MinIO, Ceph, AWS).
 *
 * @module
 */

/** What a stored object is: its size and the hex MD5 of its bytes. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Hex MD5 of the whole object's bytes. */
  md5: string;
}

/** A byte range: `length` bytes from `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Options of {@linkcode ObjectStore.get}. */
export interface GetOptions {
  /** Read only these bytes (ranged GET). */
  range?: ByteRange;
  /** When given (and no range), the bytes read must have this hex MD5, else an error. */
  md5?: string;
}

/** Object storage with verified writes and ranged reads. */
export interface ObjectStore {
  /** Which adapter this is, for logs and test output. */
  readonly kind: "fs" | "s3";
  /**
   * Stores bytes under `key` (replacing any object there) and returns the stored
   * object's info. The write is atomic: readers see the old object or the new one,
   * never a part. The adapter checks the MD5 the server computed against the bytes.
   */
  put(key: string, data: Uint8Array, options?: { contentType?: string }): Promise<ObjectInfo>;
  /** Reads an object, or a range of it. Throws {@linkcode ObjectNotFound} when absent. */
  get(key: string, options?: GetOptions): Promise<Uint8Array>;
  /** The object's info, or null when absent. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Deletes an object; deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Lists keys under a prefix, in lexical order. */
  list(prefix: string): AsyncIterable<string>;
}

/** Raised when a key does not exist. */
export class ObjectNotFound extends Error {
  constructor(readonly key: string, readonly store: string) {
    super(`object not found: ${key} (in ${store})`);
    this.name = "ObjectNotFound";
  }
}

/** Raised when bytes read or written do not have the MD5 expected. */
export class ChecksumMismatch extends Error {
  constructor(readonly key: string, readonly expected: string, readonly actual: string) {
    super(`MD5 mismatch for ${key}: expected ${expected}, got ${actual}`);
    this.name = "ChecksumMismatch";
  }
}
