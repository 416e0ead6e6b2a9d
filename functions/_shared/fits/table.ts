/**
 * Binary tables (XTENSION = 'BINTABLE'): columns of the TFORM types L, X, B, I,
 * J, K, A, E, D, C, M (scalar or fixed-length arrays, TDIM shapes) and variable
 * length P/Q descriptors (read only), with TNULL and TSCAL/TZERO. The unsigned
 * conventions (B with TZERO = -128, I with 32768, J with 2^31, K with 2^63) read
 * as Int8Array, Uint16Array, Uint32Array, BigUint64Array; other scaling reads as
 * Float64Array with TNULL values as NaN.
 *
 * @module
 */
import { FitsError, type FitsErrorContext } from "./errors.ts";
import type { Header } from "./header.ts";
import { type ImageArray, swapBytes } from "./image.ts";

/** Data of one column: flattened over rows (row r holds elements r*repeat .. r*repeat+repeat-1). */
export type ColumnData =
  | ImageArray
  | string[]
  | Array<boolean | null>
  | Array<ImageArray>;

/** A column read from a table. */
export interface TableColumn {
  /** TTYPEn (may be empty). */
  name: string;
  /** TFORMn as written. */
  format: string;
  /** TUNITn, if any. */
  unit?: string;
  /** Elements per row (for A: characters per string; strings hold one element per row). */
  repeat: number;
  /** TDIMn axes, if given (fastest first). */
  dims?: number[];
  /** The values: numbers/bools flattened over rows, one string per row, or one array per row for P/Q. */
  data: ColumnData;
  /** TNULLn of unscaled integer columns. */
  tnull?: number | bigint;
}

/** A binary table. */
export interface FitsTable {
  /** Number of rows (NAXIS2). */
  nrows: number;
  /** Columns in order. */
  columns: TableColumn[];
}

/** Finds a column by name (case-insensitive) in a table. */
export function column(table: FitsTable, name: string): TableColumn | undefined {
  const n = name.toUpperCase();
  return table.columns.find((c) => c.name.toUpperCase() === n);
}

/** A parsed TFORM. */
export interface TForm {
  repeat: number;
  type: string;
  /** For P/Q: element type of the heap array. */
  elem?: string;
  /** Bytes of this column in a row. */
  width: number;
}

const ELEM_BYTES: Record<string, number> = {
  L: 1,
  B: 1,
  I: 2,
  J: 4,
  K: 8,
  A: 1,
  E: 4,
  D: 8,
  C: 8,
  M: 16,
};

/** Parses a TFORM value. */
export function parseTForm(tform: string, ctx: FitsErrorContext): TForm {
  const m = /^\s*(\d*)([LXBIJKAEDCMPQ])(.*)$/.exec(tform);
  if (!m) throw new FitsError(`unsupported TFORM ${JSON.stringify(tform)}`, ctx);
  const repeat = m[1] === "" ? 1 : Number(m[1]);
  const type = m[2];
  if (type === "P" || type === "Q") {
    const e = /^([LXBIJKAEDCM])/.exec(m[3]);
    if (!e) throw new FitsError(`unsupported variable-length TFORM ${tform}`, ctx);
    return { repeat, type, elem: e[1], width: repeat * (type === "P" ? 8 : 16) };
  }
  if (type === "X") return { repeat, type, width: Math.ceil(repeat / 8) };
  return { repeat, type, width: repeat * ELEM_BYTES[type] };
}

function typedOf(type: string, bytes: Uint8Array, count: number): ImageArray {
  const size = ELEM_BYTES[type];
  const copy = new Uint8Array(count * (type === "C" || type === "M" ? size : size));
  copy.set(bytes.subarray(0, copy.length));
  const swap = type === "C" ? 4 : type === "M" ? 8 : size;
  if (swap > 1) swapBytes(copy, swap);
  switch (type) {
    case "B":
      return new Uint8Array(copy.buffer);
    case "I":
      return new Int16Array(copy.buffer);
    case "J":
      return new Int32Array(copy.buffer);
    case "K":
      return new BigInt64Array(copy.buffer);
    case "E":
    case "C":
      return new Float32Array(copy.buffer);
    default:
      return new Float64Array(copy.buffer);
  }
}

/** Applies TSCAL/TZERO/TNULL to a numeric column. */
function scaleColumn(
  raw: ImageArray,
  type: string,
  tscal: number,
  tzero: number,
  tnull: number | bigint | undefined,
): { data: ImageArray; tnull?: number | bigint } {
  if (tscal === 1 && tzero === 0) return { data: raw, tnull };
  if (tscal === 1) {
    if (type === "B" && tzero === -128) {
      const out = new Int8Array(raw.length);
      const u = raw as Uint8Array;
      for (let i = 0; i < u.length; i++) out[i] = u[i] ^ 0x80;
      return { data: out };
    }
    if (type === "I" && tzero === 32768) {
      const s = raw as Int16Array;
      const out = new Uint16Array(s.buffer, s.byteOffset, s.length);
      for (let i = 0; i < out.length; i++) out[i] ^= 0x8000;
      return { data: out };
    }
    if (type === "J" && tzero === 2147483648) {
      const s = raw as Int32Array;
      const out = new Uint32Array(s.buffer, s.byteOffset, s.length);
      for (let i = 0; i < out.length; i++) out[i] ^= 0x80000000;
      return { data: out };
    }
    if (type === "K" && tzero === 9223372036854775808) {
      const s = raw as BigInt64Array;
      const out = new BigUint64Array(s.buffer, s.byteOffset, s.length);
      for (let i = 0; i < out.length; i++) out[i] ^= 0x8000000000000000n;
      return { data: out };
    }
  }
  const out = new Float64Array(raw.length);
  if (raw instanceof BigInt64Array) {
    const b = tnull === undefined ? undefined : BigInt(tnull);
    for (let i = 0; i < raw.length; i++) {
      out[i] = raw[i] === b ? NaN : Number(raw[i]) * tscal + tzero;
    }
  } else {
    const r = raw as Exclude<ImageArray, BigInt64Array | BigUint64Array>;
    const b = tnull === undefined || type === "E" || type === "D" ? NaN : Number(tnull);
    for (let i = 0; i < r.length; i++) out[i] = r[i] === b ? NaN : r[i] * tscal + tzero;
  }
  return { data: out };
}

/**
 * Decodes a BINTABLE's data: `data` holds the NAXIS1 x NAXIS2 row bytes
 * followed by the heap (at THEAP, default right after the rows).
 */
export function decodeTable(header: Header, data: Uint8Array, ctx: FitsErrorContext): FitsTable {
  const naxis1 = header.getNumber("NAXIS1", 0)!;
  const nrows = header.getNumber("NAXIS2", 0)!;
  const tfields = header.getNumber("TFIELDS", 0)!;
  const theap = header.getNumber("THEAP", naxis1 * nrows)!;
  const forms: TForm[] = [];
  let width = 0;
  for (let i = 1; i <= tfields; i++) {
    const tf = header.getString(`TFORM${i}`);
    if (tf === undefined) throw new FitsError("missing TFORM", { ...ctx, card: `TFORM${i}` });
    const f = parseTForm(tf, { ...ctx, card: `TFORM${i}` });
    forms.push(f);
    width += f.width;
  }
  if (width !== naxis1) {
    throw new FitsError(`row width ${naxis1} disagrees with the TFORMs (${width} bytes)`, {
      ...ctx,
      card: "NAXIS1",
    });
  }
  const heap = data.subarray(theap);
  const columns: TableColumn[] = [];
  let offset = 0;
  for (let i = 1; i <= tfields; i++) {
    const f = forms[i - 1];
    const cctx = { ...ctx, card: `TFORM${i}` };
    // gather this column's bytes from every row
    const gathered = new Uint8Array(nrows * f.width);
    for (let r = 0; r < nrows; r++) {
      const start = r * naxis1 + offset;
      gathered.set(data.subarray(start, start + f.width), r * f.width);
    }
    offset += f.width;
    const name = header.getString(`TTYPE${i}`, "")!;
    const unit = header.getString(`TUNIT${i}`);
    const tdim = header.getString(`TDIM${i}`);
    const dims = tdim ? tdim.replace(/[()\s]/g, "").split(",").map(Number) : undefined;
    const tscal = header.getNumber(`TSCAL${i}`, 1)!;
    const tzeroRaw = header.get(`TZERO${i}`);
    const tzero = typeof tzeroRaw === "bigint"
      ? Number(tzeroRaw)
      : header.getNumber(`TZERO${i}`, 0)!;
    const tnullRaw = header.get(`TNULL${i}`);
    const tnull = typeof tnullRaw === "number" || typeof tnullRaw === "bigint"
      ? tnullRaw
      : undefined;
    const base = { name, format: header.getString(`TFORM${i}`)!, unit, repeat: f.repeat, dims };
    let col: TableColumn;
    if (f.type === "A") {
      const dec = new TextDecoder("latin1");
      const strings: string[] = [];
      for (let r = 0; r < nrows; r++) {
        const s = dec.decode(gathered.subarray(r * f.width, (r + 1) * f.width));
        const nul = s.indexOf("\0");
        strings.push((nul >= 0 ? s.slice(0, nul) : s).replace(/ +$/, ""));
      }
      col = { ...base, data: strings };
    } else if (f.type === "L") {
      const out: Array<boolean | null> = new Array(gathered.length);
      for (let k = 0; k < gathered.length; k++) {
        out[k] = gathered[k] === 84 ? true : gathered[k] === 70 ? false : null;
      }
      col = { ...base, data: out };
    } else if (f.type === "X") {
      const out = new Uint8Array(nrows * f.repeat);
      for (let r = 0; r < nrows; r++) {
        for (let b = 0; b < f.repeat; b++) {
          out[r * f.repeat + b] = (gathered[r * f.width + (b >> 3)] >> (7 - (b & 7))) & 1;
        }
      }
      col = { ...base, data: out };
    } else if (f.type === "P" || f.type === "Q") {
      const esize = f.elem === "X" ? 1 : ELEM_BYTES[f.elem!];
      const dv = new DataView(gathered.buffer);
      const arrays: ImageArray[] = [];
      for (let r = 0; r < nrows; r++) {
        const p = r * f.width;
        const n = f.type === "P" ? dv.getUint32(p) : Number(dv.getBigUint64(p));
        const off = f.type === "P" ? dv.getUint32(p + 4) : Number(dv.getBigUint64(p + 8));
        if (off + n * esize > heap.length) {
          throw new FitsError(`row ${r + 1}: variable-length array outside the heap`, cctx);
        }
        const bytes = heap.subarray(off, off + n * esize);
        arrays.push(
          f.elem === "B" || f.elem === "L" || f.elem === "A" || f.elem === "X"
            ? bytes.slice()
            : typedOf(f.elem!, bytes, n),
        );
      }
      col = { ...base, data: arrays };
    } else {
      const count = nrows * f.repeat * (f.type === "C" || f.type === "M" ? 2 : 1);
      const raw = typedOf(f.type, gathered, nrows * f.repeat);
      if (raw.length !== count) throw new FitsError("column size mismatch", cctx);
      const scaled = scaleColumn(raw, f.type, tscal, tzero, tnull);
      col = { ...base, data: scaled.data, tnull: scaled.tnull };
    }
    columns.push(col);
  }
  return { nrows, columns };
}

/** A column to write. */
export interface ColumnInput {
  /** TTYPE. */
  name: string;
  /**
   * Values flattened over rows: a typed array (TFORM from its type: Uint8 B,
   * Int8 B+TZERO, Int16 I, Uint16 I+TZERO, Int32 J, Uint32 J+TZERO, BigInt64 K,
   * Float32 E, Float64 D), strings (A, one per row) or booleans/null (L).
   */
  data: ImageArray | string[] | Array<boolean | null>;
  /** Elements per row. @default 1 */
  repeat?: number;
  /** TDIM shape (fastest first); its product must equal repeat. */
  dims?: number[];
  /** TUNIT. */
  unit?: string;
  /** TNULL for integer columns. */
  tnull?: number;
  /** TSCAL written as is (data are the stored values). */
  tscal?: number;
  /** TZERO written as is (not with the unsigned typed arrays, which set their own). */
  tzero?: number;
  /** Characters per string for A columns. @default the longest string (at least 1) */
  width?: number;
}

/** Cards and bytes of an encoded table. */
export interface EncodedTable {
  naxis1: number;
  nrows: number;
  /** [keyword, value] cards TTYPEn, TFORMn, ... in order. */
  cards: Array<[string, string | number, string?]>;
  bytes: Uint8Array;
}

/** Encodes columns into BINTABLE rows. */
export function encodeTable(columns: ColumnInput[]): EncodedTable {
  const specs: Array<
    { tform: string; width: number; bytes: (r: number, out: Uint8Array, at: number) => void }
  > = [];
  const cards: Array<[string, string | number, string?]> = [];
  let nrows = -1;
  columns.forEach((c, idx) => {
    const i = idx + 1;
    const ctx = { card: `TFORM${i}` };
    const d = c.data;
    let rows: number;
    let tform: string;
    let width: number;
    let fill: (r: number, out: Uint8Array, at: number) => void;
    let tzero: number | undefined = c.tzero;
    if (Array.isArray(d) && (d.length === 0 || typeof d[0] === "string")) {
      const strs = d as string[];
      const enc = new TextEncoder();
      const encoded = strs.map((s) => enc.encode(s));
      width = c.width ?? Math.max(1, ...encoded.map((e) => e.length));
      rows = strs.length;
      tform = `${width}A`;
      fill = (r, out, at) => {
        const e = encoded[r];
        if (e.length > width) throw new FitsError(`string longer than ${width}`, ctx);
        out.set(e, at);
        out.fill(32, at + e.length, at + width);
      };
    } else if (Array.isArray(d)) {
      const bools = d as Array<boolean | null>;
      const repeat = c.repeat ?? 1;
      rows = bools.length / repeat;
      tform = `${repeat}L`;
      width = repeat;
      fill = (r, out, at) => {
        for (let k = 0; k < repeat; k++) {
          const v = bools[r * repeat + k];
          out[at + k] = v === true ? 84 : v === false ? 70 : 0;
        }
      };
    } else {
      const repeat = c.repeat ?? 1;
      rows = d.length / repeat;
      let raw: ImageArray = d;
      let code: string;
      if (d instanceof Uint8Array) code = "B";
      else if (d instanceof Int8Array) {
        code = "B";
        tzero = -128;
        raw = Uint8Array.from(d, (v) => (v ^ 0x80) & 0xff);
      } else if (d instanceof Int16Array) code = "I";
      else if (d instanceof Uint16Array) {
        code = "I";
        tzero = 32768;
        raw = Int16Array.from(d, (v) => v ^ 0x8000);
      } else if (d instanceof Int32Array) code = "J";
      else if (d instanceof Uint32Array) {
        code = "J";
        tzero = 2147483648;
        raw = Int32Array.from(d, (v) => v ^ 0x80000000);
      } else if (d instanceof BigInt64Array) code = "K";
      else if (d instanceof BigUint64Array) {
        code = "K";
        tzero = 9223372036854775808;
        raw = BigInt64Array.from(d, (v) => BigInt.asIntN(64, v ^ 0x8000000000000000n));
      } else if (d instanceof Float32Array) code = "E";
      else code = "D";
      if (tzero !== c.tzero && c.tzero !== undefined) {
        throw new FitsError("TZERO cannot be combined with an unsigned typed array", {
          card: `TZERO${i}`,
        });
      }
      const size = raw.BYTES_PER_ELEMENT;
      const be = new Uint8Array(raw.byteLength);
      be.set(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
      if (size > 1) swapBytes(be, size);
      tform = `${repeat}${code}`;
      width = repeat * size;
      fill = (r, out, at) => out.set(be.subarray(r * width, (r + 1) * width), at);
    }
    if (!Number.isInteger(rows)) {
      throw new FitsError(`data length is not a multiple of repeat`, ctx);
    }
    if (nrows >= 0 && rows !== nrows) {
      throw new FitsError(`column ${c.name} has ${rows} rows, others ${nrows}`, ctx);
    }
    nrows = rows;
    cards.push([`TTYPE${i}`, c.name], [`TFORM${i}`, tform]);
    if (c.unit) cards.push([`TUNIT${i}`, c.unit]);
    if (c.dims) {
      const prod = c.dims.reduce((a, b) => a * b, 1);
      if (prod !== (c.repeat ?? 1)) {
        throw new FitsError("TDIM product differs from repeat", { card: `TDIM${i}` });
      }
      cards.push([`TDIM${i}`, `(${c.dims.join(",")})`]);
    }
    if (c.tnull !== undefined) cards.push([`TNULL${i}`, c.tnull]);
    if (c.tscal !== undefined) cards.push([`TSCAL${i}`, c.tscal]);
    if (tzero !== undefined) cards.push([`TZERO${i}`, tzero]);
    specs.push({ tform, width, bytes: fill });
  });
  if (nrows < 0) nrows = 0;
  const naxis1 = specs.reduce((s, c) => s + c.width, 0);
  const bytes = new Uint8Array(naxis1 * nrows);
  let off = 0;
  for (const s of specs) {
    for (let r = 0; r < nrows; r++) s.bytes(r, bytes, r * naxis1 + off);
    off += s.width;
  }
  return { naxis1, nrows, cards, bytes };
}
