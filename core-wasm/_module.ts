/**
 * The WASM instance of the C imaging core and the memory helpers every typed
 * wrapper uses. Private to core-wasm/: callers use the typed functions that
 * mod.ts re-exports.
 *
 * Rules kept here (DESIGN.md, "The C core"): the module is instantiated once per
 * variant (lazy singleton); every pointer allocated through a {@linkcode Scope}
 * is freed when the scope ends, even on error; memory views are created fresh
 * from `memory.buffer` for every read and write (memory growth detaches old
 * views) and results are always copied out, so no view into WASM memory escapes.
 *
 * @module
 */

/** Which build of the core to load. */
export type CoreVariant = "simd" | "scalar";

/** Status names of sd_core.h, by code. */
export const STATUS_NAMES: readonly string[] = [
  "SD_OK",
  "SD_ERR_ARG",
  "SD_ERR_NOMEM",
  "SD_ERR_EMPTY",
  "SD_ERR_NOCONVERGE",
  "SD_ERR_SINGULAR",
  "SD_ERR_OVERFLOW",
  "SD_ERR_CORRUPT",
];

/** A C core function returned a non-zero sd_status. */
export class CoreError extends Error {
  /** The C function that failed, e.g. `sd_background_mesh`. */
  readonly fn: string;
  /** The numeric sd_status. */
  readonly status: number;
  /** The status name, e.g. `SD_ERR_ARG`. */
  readonly statusName: string;

  constructor(fn: string, status: number, detail?: string) {
    const statusName = STATUS_NAMES[status] ?? `SD_STATUS_${status}`;
    super(`${fn} failed: ${statusName}${detail ? ` (${detail})` : ""}`);
    this.name = "CoreError";
    this.fn = fn;
    this.status = status;
    this.statusName = statusName;
  }
}

/** Typed arrays the helpers copy in and out of WASM memory. */
export type CoreArray = Float32Array | Float64Array | Int32Array | Uint16Array | Uint8Array;

type Ctor<T extends CoreArray> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

type Exports = Record<string, unknown> & { memory: WebAssembly.Memory };

/** Path of the .wasm file of a variant. */
export function wasmPath(variant: CoreVariant): URL {
  const file = variant === "simd" ? "sd_core.wasm" : "sd_core_scalar.wasm";
  return new URL(`./build/${file}`, import.meta.url);
}

/** One instantiated core: raw calls plus allocation and copy helpers. */
export class Core {
  /** Which build this is. */
  readonly variant: CoreVariant;
  readonly #exports: Exports;

  constructor(variant: CoreVariant, instance: WebAssembly.Instance) {
    this.variant = variant;
    this.#exports = instance.exports as Exports;
    const init = this.#exports._initialize;
    if (typeof init === "function") init();
  }

  /** Current size of the WASM linear memory in bytes. */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  /** Names of the exported sd_* functions. */
  functions(): string[] {
    return Object.keys(this.#exports).filter((k) => k.startsWith("sd_")).sort();
  }

  /** Calls sd_<name> with numeric arguments; throws CoreError unless it returns SD_OK. */
  call(fn: string, ...args: number[]): void {
    const f = this.#exports[fn];
    if (typeof f !== "function") throw new Error(`the core has no function ${fn}`);
    const status = (f as (...a: number[]) => number)(...args);
    if (status !== 0) throw new CoreError(fn, status);
  }

  /** Allocates nbytes in WASM memory (sd_alloc); free with {@linkcode Core.free}. */
  alloc(nbytes: number): number {
    if (!(nbytes > 0)) throw new CoreError("sd_alloc", 1, `nbytes ${nbytes}`);
    const e = this.#exports as unknown as {
      stackSave(): number;
      stackAlloc(n: number): number;
      stackRestore(p: number): void;
    };
    const saved = e.stackSave();
    try {
      const slot = e.stackAlloc(4);
      this.call("sd_alloc", nbytes, slot);
      return new Uint32Array(this.#exports.memory.buffer, slot, 1)[0];
    } finally {
      e.stackRestore(saved);
    }
  }

  /** Frees a pointer from {@linkcode Core.alloc} (0 is ignored). */
  free(ptr: number): void {
    if (ptr !== 0) this.call("sd_free", ptr);
  }

  /** Copies a typed array into WASM memory at ptr. */
  write(ptr: number, data: CoreArray): void {
    new Uint8Array(this.#exports.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }

  /** Sets nbytes of WASM memory at ptr to zero. */
  zero(ptr: number, nbytes: number): void {
    new Uint8Array(this.#exports.memory.buffer, ptr, nbytes).fill(0);
  }

  /** Copies n elements of the given type out of WASM memory at ptr. */
  read<T extends CoreArray>(ctor: Ctor<T>, ptr: number, n: number): T {
    const view = new ctor(this.#exports.memory.buffer, ptr, n);
    return view.slice() as T;
  }

  /** Runs fn with a scope whose allocations are all freed when fn returns or throws. */
  scope<T>(fn: (s: Scope) => T): T {
    const s = new Scope(this);
    try {
      return fn(s);
    } finally {
      s.freeAll();
    }
  }
}

/** Allocations that live for one wrapper call. */
export class Scope {
  readonly core: Core;
  readonly #ptrs: number[] = [];

  constructor(core: Core) {
    this.core = core;
  }

  /** Allocates nbytes (zeroed); freed with the scope. */
  alloc(nbytes: number): number {
    const ptr = this.core.alloc(Math.max(1, nbytes));
    this.#ptrs.push(ptr);
    this.core.zero(ptr, Math.max(1, nbytes));
    return ptr;
  }

  /** Copies data in; returns its pointer (0 for null/undefined, meaning "none" to C). */
  copyIn(data: CoreArray | null | undefined): number {
    if (data == null) return 0;
    const ptr = this.core.alloc(Math.max(1, data.byteLength));
    this.#ptrs.push(ptr);
    this.core.write(ptr, data);
    return ptr;
  }

  /** Allocates room for n float32 values. */
  f32(n: number): number {
    return this.alloc(4 * n);
  }

  /** Allocates room for n float64 values. */
  f64(n: number): number {
    return this.alloc(8 * n);
  }

  /** Allocates room for n int32 values. */
  i32(n: number): number {
    return this.alloc(4 * n);
  }

  /** Copies n float32 values out. */
  readF32(ptr: number, n: number): Float32Array {
    return this.core.read(Float32Array, ptr, n);
  }

  /** Copies n float64 values out. */
  readF64(ptr: number, n: number): Float64Array {
    return this.core.read(Float64Array, ptr, n);
  }

  /** Copies n int32 values out. */
  readI32(ptr: number, n: number): Int32Array {
    return this.core.read(Int32Array, ptr, n);
  }

  /** Frees every allocation of this scope. */
  freeAll(): void {
    while (this.#ptrs.length > 0) this.core.free(this.#ptrs.pop()!);
  }
}

function importsFor(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== "function") {
      throw new Error(`sd_core.wasm imports ${imp.module}.${imp.name} (${imp.kind}); rebuild it`);
    }
    const ns = (imports[imp.module] ??= {});
    if (imp.module === "env" && imp.name === "emscripten_notify_memory_growth") {
      // Views are re-created for every access, so growth needs no bookkeeping.
      ns[imp.name] = () => {};
    } else if (imp.module === "wasi_snapshot_preview1" && imp.name === "proc_exit") {
      ns[imp.name] = (code: number) => {
        throw new Error(`sd_core.wasm called proc_exit(${code})`);
      };
    } else if (imp.module === "wasi_snapshot_preview1") {
      ns[imp.name] = () => 52; // ENOSYS: the core does no I/O
    } else {
      ns[imp.name] = () => {
        throw new Error(`sd_core.wasm called unexpected import ${imp.module}.${imp.name}`);
      };
    }
  }
  return imports;
}

const instances = new Map<CoreVariant, Core>();

/**
 * Compiles and instantiates a core .wasm file (no caching; most code wants
 * {@linkcode getCore}). Throws an error naming `deno task build:wasm` when the file is missing.
 */
export function loadCore(path: URL, variant: CoreVariant): Core {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `the C core is not built (${path.pathname} is missing): run \`deno task build:wasm\``,
      );
    }
    throw err;
  }
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new Core(variant, new WebAssembly.Instance(module, importsFor(module)));
}

/**
 * Returns the core of a variant, compiling and instantiating it on first use.
 *
 * @param variant "simd" (the pipeline build) or "scalar" (built with SD_NO_SIMD, for tests). @default "simd"
 */
export function getCore(variant: CoreVariant = "simd"): Core {
  const cached = instances.get(variant);
  if (cached) return cached;
  const core = loadCore(wasmPath(variant), variant);
  instances.set(variant, core);
  return core;
}

/** A float32 image, row-major, width fastest. */
export interface FloatImage {
  /** width * height pixel values. */
  data: Float32Array;
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
}

/** Throws unless data holds width * height values (and both are positive integers). */
export function checkImage(name: string, data: { length: number }, width: number, height: number) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${name}: bad size ${width} x ${height}`);
  }
  if (data.length !== width * height) {
    throw new RangeError(`${name}: ${data.length} values for ${width} x ${height} pixels`);
  }
}
