/**
 * Writing FITS files: images (primary and IMAGE extensions, optionally
 * tile-compressed) and binary tables, each with a user header whose cards are
 * kept (exactly, when they came from a file) after the structural cards this
 * module writes itself.
 *
 * @module
 */
import { FitsError } from "./errors.ts";
import { BLOCK, Card, type CardValue, Header } from "./header.ts";
import { type ImageArray, storageOf, toBigEndian } from "./image.ts";
import { type ColumnInput, encodeTable } from "./table.ts";
import { compressImage, type CompressOptions } from "./tiled.ts";

/** An image HDU to write. The primary HDU is always an image (possibly empty). */
export interface ImageHduInput {
  /** Discriminator. @default "image" */
  type?: "image";
  /** Extra cards (structural cards in it are replaced by the ones matching `data`). */
  header?: Header;
  /** Pixels; BITPIX (and BZERO for unsigned types) follow from the array type. Omit for no data. */
  data?: ImageArray;
  /** Axis lengths NAXIS1, NAXIS2, ... @default [data.length] */
  axes?: number[];
  /** EXTNAME. */
  name?: string;
  /** Tile-compress this image (never the primary: an empty primary is inserted before it). */
  compress?: CompressOptions | true;
  /**
   * Store float data as scaled integers: raw = round((value - bzero) / bscale) in
   * BITPIX `bitpix`, NaN as `blank` (required when the data hold NaN). Readers get
   * raw * BSCALE + BZERO back (as floats). Not combined with `compress`.
   */
  scale?: { bitpix: 8 | 16 | 32; bscale: number; bzero: number; blank?: number };
}

/** Quantizes float data to the raw integers of a scaled image. */
function scaledStorage(
  data: ImageArray,
  scale: NonNullable<ImageHduInput["scale"]>,
  hdu: number,
): { bitpix: 8 | 16 | 32; raw: ImageArray; extra: Entry[] } {
  const { bitpix, bscale, bzero, blank } = scale;
  if (!(bscale !== 0) || !Number.isFinite(bscale) || !Number.isFinite(bzero)) {
    throw new FitsError("BSCALE must be finite and non-zero, BZERO finite", {
      hdu,
      card: "BSCALE",
    });
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    throw new FitsError("scaled storage takes number arrays", { hdu, card: "BITPIX" });
  }
  const n = data.length;
  const raw = bitpix === 8
    ? new Uint8Array(n)
    : bitpix === 16
    ? new Int16Array(n)
    : new Int32Array(n);
  const [lo, hi] = bitpix === 8
    ? [0, 255]
    : bitpix === 16
    ? [-32768, 32767]
    : [-2147483648, 2147483647];
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (Number.isNaN(v)) {
      if (blank === undefined) {
        throw new FitsError("NaN in data but no BLANK given", { hdu, card: "BLANK" });
      }
      raw[i] = blank;
      continue;
    }
    const q = Math.round((v - bzero) / bscale);
    if (q < lo || q > hi) {
      throw new FitsError(`value ${v} does not fit BITPIX ${bitpix} with these BSCALE/BZERO`, {
        hdu,
        card: "BSCALE",
      });
    }
    raw[i] = q;
  }
  const extra: Entry[] = [["BSCALE", bscale, "physical = raw * BSCALE + BZERO"], ["BZERO", bzero]];
  if (blank !== undefined) extra.push(["BLANK", blank, "raw value of undefined pixels"]);
  return { bitpix, raw, extra };
}

/** A binary table HDU to write (never the primary: an empty primary is inserted before it). */
export interface TableHduInput {
  /** Discriminator. */
  type: "bintable";
  /** Extra cards (column and structural cards in it are replaced). */
  header?: Header;
  /** The columns, all with the same number of rows. */
  columns: ColumnInput[];
  /** EXTNAME. */
  name?: string;
}

/** Any HDU {@linkcode writeFits} accepts. */
export type HduInput = ImageHduInput | TableHduInput;

const STRUCTURAL =
  /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|TFIELDS|THEAP|BSCALE|BZERO|CHECKSUM|DATASUM|END|ZIMAGE|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|ZNAME\d+|ZVAL\d+|ZQUANTIZ|ZDITHER0|ZSCALE|ZZERO|ZBLANK|ZSIMPLE|ZTENSION|ZEXTEND|ZPCOUNT|ZGCOUNT|ZHECKSUM|ZDATASUM)$/;
const COLUMN = /^(TTYPE|TFORM|TUNIT|TDIM|TNULL|TSCAL|TZERO|TDISP)\d+$/;

type Entry = [string, CardValue, string?];

/** Builds a header: structural entries first (reusing the user's identical cards), then the user's other cards. */
function buildHeader(
  structural: Entry[],
  user: Header | undefined,
  name: string | undefined,
): Header {
  const out = new Header();
  for (const [key, value, comment] of structural) {
    const mine = user?.card(key);
    if (mine && mine.value === value) {
      out.cards.push(mine);
    } else {
      out.cards.push(new Card(key, value, comment ?? ""));
    }
  }
  if (name !== undefined) {
    const mine = user?.card("EXTNAME");
    out.cards.push(
      mine && mine.value === name ? mine : new Card("EXTNAME", name, "extension name"),
    );
  }
  for (const c of user?.cards ?? []) {
    if (!c.isCommentary && (STRUCTURAL.test(c.key) || COLUMN.test(c.key))) continue;
    if (!c.isCommentary && name !== undefined && c.key === "EXTNAME") continue;
    out.cards.push(c);
  }
  return out;
}

/** The header without BLANK (scaled storage writes its own). */
function withoutBlank(h: Header | undefined): Header | undefined {
  if (!h?.has("BLANK")) return h;
  const c = h.clone();
  c.delete("BLANK");
  return c;
}

function padded(bytes: Uint8Array, fill: number): Uint8Array {
  const n = Math.ceil(bytes.length / BLOCK) * BLOCK;
  if (n === bytes.length) return bytes;
  const out = new Uint8Array(n);
  out.set(bytes);
  if (fill !== 0) out.fill(fill, bytes.length);
  return out;
}

function headerBytes(h: Header): Uint8Array {
  const text = h.toString();
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Serializes HDUs into a FITS file. The first HDU becomes the primary; when it
 * is a table or a compressed image, an empty primary HDU is inserted first.
 * Throws FitsError on inconsistent input (axes not matching the data, ...).
 */
export function writeFits(hdus: HduInput[]): Uint8Array {
  const list: HduInput[] = [...hdus];
  if (list.length === 0 || list[0].type === "bintable" || (list[0] as ImageHduInput).compress) {
    list.unshift({});
  }
  const parts: Uint8Array[] = [];
  list.forEach((hdu, index) => {
    const primary = index === 0;
    const first: Entry = primary ? ["SIMPLE", true, "conforms to FITS standard"] : [
      "XTENSION",
      hdu.type === "bintable" || (hdu as ImageHduInput).compress ? "BINTABLE" : "IMAGE",
    ];
    if (hdu.type === "bintable") {
      const t = encodeTable(hdu.columns);
      const entries: Entry[] = [
        first,
        ["BITPIX", 8, "array data type"],
        ["NAXIS", 2, "number of array dimensions"],
        ["NAXIS1", t.naxis1, "width of table in bytes"],
        ["NAXIS2", t.nrows, "number of rows in table"],
        ["PCOUNT", 0, "number of group parameters"],
        ["GCOUNT", 1, "number of groups"],
        ["TFIELDS", hdu.columns.length, "number of table fields"],
        ...t.cards,
      ];
      parts.push(headerBytes(buildHeader(entries, hdu.header, hdu.name)), padded(t.bytes, 0));
      return;
    }
    const img = hdu as ImageHduInput;
    const data = img.data;
    const axes = img.axes ?? (data ? [data.length] : []);
    const npix = axes.length === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
    if ((data?.length ?? 0) !== npix) {
      throw new FitsError(`image of ${data?.length ?? 0} pixels but axes ${axes.join("x")}`, {
        hdu: index,
        card: "NAXIS",
      });
    }
    if (img.scale && img.compress) {
      throw new FitsError("scaled storage cannot be combined with compression", {
        hdu: index,
        card: "BSCALE",
      });
    }
    const scaled = img.scale && data ? scaledStorage(data, img.scale, index) : undefined;
    const st = scaled
      ? { bitpix: scaled.bitpix, raw: scaled.raw, bzero: undefined }
      : data
      ? storageOf(data)
      : { bitpix: 8 as const, raw: new Uint8Array(0), bzero: undefined };
    if (img.compress && data) {
      const opts = img.compress === true ? {} : img.compress;
      const c = compressImage(st.raw, st.bitpix, axes, opts);
      const entries: Entry[] = [
        first,
        ["BITPIX", 8, "binary table"],
        ["NAXIS", 2, "number of array dimensions"],
        ["NAXIS1", c.naxis1, "width of table in bytes"],
        ["NAXIS2", c.nrows, "number of rows in table"],
        ["PCOUNT", c.pcount, "size of special data area"],
        ["GCOUNT", 1, "one data group"],
        ["TFIELDS", c.cards.filter(([k]) => k.startsWith("TTYPE")).length, "number of fields"],
        ...c.cards,
      ];
      if (st.bzero !== undefined) entries.push(["BSCALE", 1], ["BZERO", st.bzero]);
      parts.push(headerBytes(buildHeader(entries, img.header, img.name)), padded(c.bytes, 0));
      return;
    }
    const entries: Entry[] = [
      first,
      ["BITPIX", st.bitpix, "array data type"],
      ["NAXIS", axes.length, "number of array dimensions"],
      ...axes.map((n, k): Entry => [`NAXIS${k + 1}`, n]),
    ];
    if (primary) entries.push(["EXTEND", true]);
    else entries.push(["PCOUNT", 0], ["GCOUNT", 1]);
    if (st.bzero !== undefined) entries.push(["BSCALE", 1], ["BZERO", st.bzero]);
    if (scaled) entries.push(...scaled.extra);
    const user = scaled ? withoutBlank(img.header) : img.header;
    parts.push(headerBytes(buildHeader(entries, user, img.name)));
    if (data) parts.push(padded(toBigEndian(st.raw), 0));
  });
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
