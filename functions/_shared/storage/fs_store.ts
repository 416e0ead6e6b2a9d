/**
 * The local-directory object store (embedded mode).
 *
 * Layout under the root directory:
 * - `<key>`: the object's bytes;
 * - `.skydiff-meta/<key>.json`: `{md5, size, ino, mtime}` of the bytes, trusted only
 *   while the data file still has that inode, size and mtime (else the MD5 is
 *   recomputed from the bytes);
 * - `.skydiff-tmp/`: temporary files, renamed into place so writes are atomic.
 *
 * @module
 */
import { dirname, join } from "node:path";
import {
  type ByteRange,
  ChecksumMismatch,
  type GetOptions,
  type ObjectInfo,
  ObjectNotFound,
  type ObjectStore,
} from "./object_store.ts";
import { checkKey, checkPrefix } from "./key.ts";
import { md5Hex } from "./md5.ts";

const META_DIR = ".skydiff-meta";
const TMP_DIR = ".skydiff-tmp";

interface Sidecar {
  md5: string;
  size: number;
  ino: number | null;
  mtime: number | null;
}

/** Options of {@linkcode FsObjectStore}. */
export interface FsStoreOptions {
  /** Directory holding the objects; created when missing. */
  root: string;
  /** fsync data before the rename, so a crash never leaves a torn object. @default true */
  fsync?: boolean;
}

/** Checks a byte range and clamps it to an object of `size` bytes (as S3 does). */
export function clampRange(range: ByteRange, size: number, key: string): ByteRange {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`range offset ${offset} is not a non-negative integer (${key})`);
  }
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new RangeError(`range length ${length} is not a positive integer (${key})`);
  }
  if (offset >= size) {
    throw new RangeError(`range offset ${offset} is beyond the end of ${key} (${size} bytes)`);
  }
  return { offset, length: Math.min(length, size - offset) };
}

/** An {@linkcode ObjectStore} over a local directory. */
export class FsObjectStore implements ObjectStore {
  readonly kind = "fs" as const;
  readonly root: string;
  readonly #fsync: boolean;

  constructor(options: FsStoreOptions) {
    this.root = options.root;
    this.#fsync = options.fsync ?? true;
  }

  #path(key: string): string {
    return join(this.root, checkKey(key));
  }

  #metaPath(key: string): string {
    return join(this.root, META_DIR, `${key}.json`);
  }

  async #writeAtomic(target: string, data: Uint8Array): Promise<Deno.FileInfo> {
    const tmpDir = join(this.root, TMP_DIR);
    await Deno.mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, crypto.randomUUID());
    let info: Deno.FileInfo | null = null;
    try {
      const file = await Deno.open(tmp, { write: true, createNew: true });
      try {
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
        if (this.#fsync) await file.syncData();
        info = await file.stat();
      } finally {
        file.close();
      }
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.rename(tmp, target);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    return info!;
  }

  async #readSidecar(key: string): Promise<Sidecar | null> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#metaPath(key))) as Sidecar;
    } catch {
      return null;
    }
  }

  /** The sidecar's MD5 when it describes the file with this stat, else null. */
  #trusted(side: Sidecar | null, stat: Deno.FileInfo): string | null {
    if (!side || stat.ino === null || side.ino !== stat.ino || side.size !== stat.size) return null;
    if (side.mtime !== (stat.mtime?.getTime() ?? null)) return null;
    return side.md5;
  }

  async put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    const path = this.#path(key);
    const md5 = md5Hex(data);
    const stat = await this.#writeAtomic(path, data);
    const side: Sidecar = {
      md5,
      size: data.length,
      ino: stat.ino,
      mtime: stat.mtime?.getTime() ?? null,
    };
    await this.#writeAtomic(this.#metaPath(key), new TextEncoder().encode(JSON.stringify(side)));
    return { key, size: data.length, md5 };
  }

  async #open(key: string): Promise<Deno.FsFile> {
    const path = this.#path(key);
    try {
      const file = await Deno.open(path, { read: true });
      if ((await file.stat()).isFile) return file;
      file.close();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
    }
    throw new ObjectNotFound(key, `fs:${this.root}`);
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const file = await this.#open(key);
    try {
      const stat = await file.stat();
      if (options.range) {
        const { offset, length } = clampRange(options.range, stat.size, key);
        const out = new Uint8Array(length);
        await file.seek(offset, Deno.SeekMode.Start);
        let got = 0;
        while (got < length) {
          const n = await file.read(out.subarray(got));
          if (n === null) throw new Error(`${key}: file shrank while reading`);
          got += n;
        }
        return out;
      }
      const out = new Uint8Array(stat.size);
      let got = 0;
      while (got < out.length) {
        const n = await file.read(out.subarray(got));
        if (n === null) throw new Error(`${key}: file shrank while reading`);
        got += n;
      }
      const actual = md5Hex(out);
      const stored = this.#trusted(await this.#readSidecar(key), stat);
      if (stored !== null && stored !== actual) throw new ChecksumMismatch(key, stored, actual);
      if (options.md5 !== undefined && options.md5.toLowerCase() !== actual) {
        throw new ChecksumMismatch(key, options.md5.toLowerCase(), actual);
      }
      return out;
    } finally {
      file.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(this.#path(key));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
      throw e;
    }
    if (!stat.isFile) return null;
    const md5 = this.#trusted(await this.#readSidecar(key), stat) ??
      md5Hex(await this.get(key));
    return { key, size: stat.size, md5 };
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    for (const p of [path, this.#metaPath(key)]) {
      try {
        await Deno.remove(p);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
      }
    }
    // Prune directories left empty, up to the root.
    for (const start of [path, this.#metaPath(key)]) {
      let dir = dirname(start);
      while (dir.length > this.root.length && dir.startsWith(this.root)) {
        try {
          await Deno.remove(dir);
        } catch {
          break;
        }
        dir = dirname(dir);
      }
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    checkPrefix(prefix);
    const slash = prefix.lastIndexOf("/");
    const base = slash >= 0 ? prefix.slice(0, slash) : "";
    const keys: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(rel ? join(this.root, rel) : this.root));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
        throw e;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(".skydiff-")) continue;
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory) {
          // Descend only where keys under the prefix can be.
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(key);
        } else if (entry.isFile && key.startsWith(prefix)) {
          keys.push(key);
        }
      }
    };
    await walk(base);
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    yield* keys;
  }
}
