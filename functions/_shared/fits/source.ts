/**
 * Byte sources the FITS reader reads through: only `size()` and ranged
 * `read(offset, length)`, so one HDU of a large multi-extension file can be read
 * from object storage with ranged GETs without fetching the rest.
 *
 * @module
 */

/** A random-access source of bytes. */
export interface ByteSource {
  /** Name for messages (path, object key...). */
  readonly name?: string;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** Reads exactly `length` bytes at `offset` (fewer only at the end of the source). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases resources (open files); optional. */
  close?(): Promise<void> | void;
}

/** A ByteSource over bytes in memory (no copy; reads return subarrays). */
export function bytesSource(bytes: Uint8Array, name = "<memory>"): ByteSource {
  return {
    name,
    size: () => Promise.resolve(bytes.length),
    read: (offset: number, length: number) =>
      Promise.resolve(bytes.subarray(offset, Math.min(bytes.length, offset + length))),
  };
}

/**
 * A ByteSource over a local file; each read is a positioned read of just the
 * requested bytes. The file is opened on first use; call `close()` when done.
 */
export function fileSource(path: string): ByteSource {
  let file: Deno.FsFile | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const open = () => (file ??= Deno.openSync(path, { read: true }));
  return {
    name: path,
    size: async () => (await Deno.stat(path)).size,
    read: (offset: number, length: number) => {
      // reads on one handle are serialized: seek + read must not interleave
      const run = queue.then(async () => {
        const f = open();
        await f.seek(offset, Deno.SeekMode.Start);
        const out = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const n = await f.read(out.subarray(got));
          if (n === null) break;
          got += n;
        }
        return got === length ? out : out.subarray(0, got);
      });
      queue = run.catch(() => {});
      return run;
    },
    close: () => {
      file?.close();
      file = undefined;
    },
  };
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Gunzips bytes with the platform DecompressionStream. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Gzips bytes with the platform CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The part of the storage module's ObjectStore that {@linkcode objectSource} uses. */
export interface RangedStore {
  get(key: string, options?: { range?: { offset: number; length: number } }): Promise<Uint8Array>;
  head(key: string): Promise<{ size: number } | null>;
}

/**
 * A ByteSource over one object of an object store (functions/_shared/storage):
 * every read is one ranged GET, so opening a FITS file and reading one HDU
 * fetches only its headers and that HDU's data. The size is asked once (HEAD).
 */
export function objectSource(store: RangedStore, key: string): ByteSource {
  let size: Promise<number> | undefined;
  const getSize = () =>
    size ??= store.head(key).then((info) => {
      if (!info) throw new Error(`object not found: ${key}`);
      return info.size;
    });
  return {
    name: key,
    size: getSize,
    read: async (offset: number, length: number) => {
      const total = await getSize();
      const n = Math.min(length, total - offset);
      if (n <= 0) return new Uint8Array(0);
      return await store.get(key, { range: { offset, length: n } });
    },
  };
}
