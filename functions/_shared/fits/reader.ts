/**
 * Reading FITS files through a {@linkcode ByteSource}: headers are scanned lazily
 * (only as far as the HDU asked for), each HDU's data offset and size come from
 * its header, and reading an HDU's data reads exactly its bytes — so one
 * extension of a large multi-extension file costs a few small ranged reads for
 * the headers before it plus one read of its data.
 *
 * Gzip-compressed files (.fits.gz) are recognized by their magic number and
 * decompressed whole in memory first (gzip has no random access).
 *
 * @module
 */
import { FitsError, type FitsErrorContext } from "./errors.ts";
import { BLOCK, CARD, Header, parseCards } from "./header.ts";
import {
  type Bitpix,
  bytesPerPixel,
  type FitsImage,
  rawFromBigEndian,
  scaleImage,
} from "./image.ts";
import { type ByteSource, bytesSource, fileSource, gunzip, isGzip } from "./source.ts";
import { decodeTable, type FitsTable } from "./table.ts";
import { decompressImage, imageHeaderOf, isCompressedImage } from "./tiled.ts";

/** What an HDU holds. */
export type HduKind = "image" | "bintable" | "table";

const LATIN1 = new TextDecoder("latin1");

/** One header-data unit: its header (parsed at open) and lazy access to its data. */
export class Hdu {
  /** Index in the file (0 = primary). */
  readonly index: number;
  /**
   * The header of what the HDU holds: for a tile-compressed image, the image's
   * header (BITPIX, NAXISn restored from ZBITPIX, ZNAXISn); else the stored header.
   */
  readonly header: Header;
  /** The header as stored in the file. */
  readonly storedHeader: Header;
  /** "image" (also for tile-compressed images), "bintable" or "table" (ASCII). */
  readonly kind: HduKind;
  /** True for a tile-compressed image. */
  readonly compressed: boolean;
  /** Byte offset of the header in the file. */
  readonly headerOffset: number;
  /** Byte offset of the data. */
  readonly dataOffset: number;
  /** Bytes of data (rows + heap for tables), without padding. */
  readonly dataSize: number;
  readonly #file: FitsFile;

  constructor(file: FitsFile, init: {
    index: number;
    stored: Header;
    headerOffset: number;
    dataOffset: number;
    dataSize: number;
  }) {
    this.#file = file;
    this.index = init.index;
    this.storedHeader = init.stored;
    this.headerOffset = init.headerOffset;
    this.dataOffset = init.dataOffset;
    this.dataSize = init.dataSize;
    const xt = init.index === 0 ? "IMAGE" : String(init.stored.get("XTENSION") ?? "").trim();
    this.compressed = isCompressedImage(init.stored);
    this.kind = this.compressed || xt === "IMAGE" || xt === "IUEIMAGE"
      ? "image"
      : xt === "BINTABLE" || xt === "A3DTABLE"
      ? "bintable"
      : "table";
    this.header = this.compressed ? imageHeaderOf(init.stored, this.#ctx()) : init.stored;
  }

  #ctx(card?: string): FitsErrorContext {
    return { file: this.#file.name, hdu: this.index, card };
  }

  /** EXTNAME, if any. */
  get name(): string | undefined {
    const v = this.storedHeader.get("EXTNAME");
    return typeof v === "string" ? v : undefined;
  }

  /** Reads the data bytes (unpadded) with one ranged read. */
  async readRawData(): Promise<Uint8Array> {
    if (this.dataSize === 0) return new Uint8Array(0);
    const bytes = await this.#file.source.read(this.dataOffset, this.dataSize);
    if (bytes.length < this.dataSize) {
      throw new FitsError(
        `truncated data: ${bytes.length} of ${this.dataSize} bytes`,
        this.#ctx("NAXIS"),
      );
    }
    return bytes;
  }

  /** Reads the image (decompressing a tile-compressed one), scaled as described in image.ts. */
  async readImage(): Promise<FitsImage> {
    if (this.kind !== "image") {
      throw new FitsError(`HDU is a ${this.kind}, not an image`, this.#ctx("XTENSION"));
    }
    const h = this.header;
    const bitpix = h.getNumber("BITPIX")! as Bitpix;
    const naxis = h.getNumber("NAXIS", 0)!;
    const axes: number[] = [];
    for (let k = 1; k <= naxis; k++) axes.push(h.getNumber(`NAXIS${k}`)!);
    const data = await this.readRawData();
    let raw;
    if (this.compressed) {
      raw = decompressImage(this.storedHeader, data, this.#ctx()).raw;
    } else {
      const npix = naxis === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
      raw = rawFromBigEndian(data, bitpix, npix);
    }
    const scaled = scaleImage(raw, bitpix, h);
    return { axes, data: scaled.data, bitpix };
  }

  /**
   * Reads rows [y0, y1) of a 2-D image (NAXIS2 is the row axis), scaled like
   * readImage. For an uncompressed image only those rows' bytes are read (one
   * ranged read); a tile-compressed image is decompressed whole and sliced.
   */
  async readRows(y0: number, y1: number): Promise<FitsImage> {
    if (this.kind !== "image") {
      throw new FitsError(`HDU is a ${this.kind}, not an image`, this.#ctx("XTENSION"));
    }
    const h = this.header;
    const naxis = h.getNumber("NAXIS", 0)!;
    if (naxis !== 2) {
      throw new FitsError(`readRows needs a 2-D image, NAXIS is ${naxis}`, this.#ctx("NAXIS"));
    }
    const w = h.getNumber("NAXIS1")!, ny = h.getNumber("NAXIS2")!;
    if (!Number.isInteger(y0) || !Number.isInteger(y1) || y0 < 0 || y1 > ny || y0 > y1) {
      throw new RangeError(`rows [${y0}, ${y1}) outside 0..${ny}`);
    }
    const bitpix = h.getNumber("BITPIX")! as Bitpix;
    if (this.compressed) {
      const all = await this.readImage();
      return {
        axes: [w, y1 - y0],
        data: all.data.slice(y0 * w, y1 * w) as typeof all.data,
        bitpix,
      };
    }
    const bpp = Math.abs(bitpix) / 8;
    const n = (y1 - y0) * w;
    const bytes = n === 0
      ? new Uint8Array(0)
      : await this.#file.source.read(this.dataOffset + y0 * w * bpp, n * bpp);
    if (bytes.length < n * bpp) throw new FitsError("truncated data", this.#ctx("NAXIS2"));
    const scaled = scaleImage(rawFromBigEndian(bytes, bitpix, n), bitpix, h);
    return { axes: [w, y1 - y0], data: scaled.data, bitpix };
  }

  /** Reads a binary table. */
  async readTable(): Promise<FitsTable> {
    if (this.kind !== "bintable" || this.compressed) {
      throw new FitsError(`HDU is not a binary table`, this.#ctx("XTENSION"));
    }
    return decodeTable(this.storedHeader, await this.readRawData(), this.#ctx());
  }
}

/** An open FITS file; HDUs are discovered on demand. */
export class FitsFile {
  /** Name used in messages. */
  readonly name: string;
  /** Where the bytes come from. */
  readonly source: ByteSource;
  readonly #hdus: Hdu[] = [];
  #next = 0;
  #size = -1;
  #done = false;

  constructor(source: ByteSource, name?: string) {
    this.source = source;
    this.name = name ?? source.name ?? "<fits>";
  }

  /** Number of HDUs (scans every header). */
  async count(): Promise<number> {
    return (await this.hdus()).length;
  }

  /** Every HDU (scans every header). */
  async hdus(): Promise<Hdu[]> {
    while (await this.#scanNext());
    return [...this.#hdus];
  }

  /**
   * The HDU at an index, or the first with this EXTNAME (case-insensitive;
   * "name,ver" form not supported). Throws FitsError when there is none.
   */
  async hdu(key: number | string): Promise<Hdu> {
    if (typeof key === "number") {
      while (this.#hdus.length <= key && (await this.#scanNext()));
      const h = this.#hdus[key];
      if (!h) {
        throw new FitsError(`no HDU ${key} (file has ${this.#hdus.length})`, { file: this.name });
      }
      return h;
    }
    const want = key.trim().toUpperCase();
    for (let i = 0;; i++) {
      while (this.#hdus.length <= i && (await this.#scanNext()));
      const h = this.#hdus[i];
      if (!h) {
        throw new FitsError(`no HDU with EXTNAME ${key}`, { file: this.name, card: "EXTNAME" });
      }
      if (h.name?.trim().toUpperCase() === want) return h;
    }
  }

  /** Reads the image of an HDU. @default key: the first HDU whose image has pixels */
  async image(key?: number | string): Promise<FitsImage> {
    if (key !== undefined) return (await this.hdu(key)).readImage();
    for (let i = 0;; i++) {
      const h = await this.hdu(i);
      if (h.kind === "image" && (h.header.getNumber("NAXIS", 0) ?? 0) > 0) return h.readImage();
    }
  }

  /** Reads the binary table of an HDU. */
  async table(key: number | string): Promise<FitsTable> {
    return (await this.hdu(key)).readTable();
  }

  /** Closes the source. */
  async close(): Promise<void> {
    await this.source.close?.();
  }

  async #scanNext(): Promise<boolean> {
    if (this.#done) return false;
    if (this.#size < 0) this.#size = await this.source.size();
    const size = this.#size;
    const index = this.#hdus.length;
    const offset = this.#next;
    if (offset >= size) {
      if (index === 0) {
        throw new FitsError("empty file", { file: this.name, hdu: 0, card: "SIMPLE" });
      }
      this.#done = true;
      return false;
    }
    const ctx = (card?: string): FitsErrorContext => ({ file: this.name, hdu: index, card });
    // header blocks are read 4 at a time (one ranged read for most headers)
    const readChunk = (at: number) => this.source.read(at, Math.min(4 * BLOCK, size - at));
    const firstChunk = await readChunk(offset);
    if (index > 0 && !LATIN1.decode(firstChunk.subarray(0, 9)).startsWith("XTENSION=")) {
      const head = firstChunk.subarray(0, BLOCK);
      if (head.every((b) => b === 0) && offset + head.length >= size) {
        this.#done = true; // trailing zero padding
        return false;
      }
      const prev = this.#hdus[index - 1].storedHeader;
      const n = prev.getNumber("NAXIS", 0)!;
      throw new FitsError(
        `no XTENSION where HDU ${index - 1}'s data end: NAXISn disagree with the data size`,
        { file: this.name, hdu: index - 1, card: n > 0 ? `NAXIS${n}` : "NAXIS" },
      );
    }
    // read header blocks until END
    let text = LATIN1.decode(firstChunk);
    let headerBytes = firstChunk.length;
    let { end, cards } = parseCards(text, ctx());
    while (end < 0) {
      if (offset + headerBytes >= size) {
        throw new FitsError("header has no END card (file ends)", ctx("END"));
      }
      const chunk = await readChunk(offset + headerBytes);
      text += LATIN1.decode(chunk);
      headerBytes += chunk.length;
      ({ end, cards } = parseCards(text, ctx()));
    }
    const headerEnd = Math.ceil(((end + 1) * CARD) / BLOCK) * BLOCK;
    if (headerEnd > headerBytes) {
      throw new FitsError("file ends inside the header's padding to 2880 bytes", ctx("END"));
    }
    const padding = text.slice((end + 1) * CARD, headerEnd);
    if (padding.trim() !== "") {
      throw new FitsError("header padding after END is not blank", ctx("END"));
    }
    const header = new Header(cards);
    const first = header.cards[0];
    if (index === 0 && (first?.key !== "SIMPLE" || first.value !== true)) {
      throw new FitsError("primary header does not start with SIMPLE = T", ctx("SIMPLE"));
    }
    if (index > 0 && first?.key !== "XTENSION") {
      throw new FitsError("extension header does not start with XTENSION", ctx("XTENSION"));
    }
    const dataSize = dataSizeOf(header, ctx);
    const dataOffset = offset + headerEnd;
    const dataEnd = dataOffset + dataSize;
    const naxis = header.getNumber("NAXIS", 0)!;
    const lastAxis = naxis > 0 ? `NAXIS${naxis}` : "NAXIS";
    if (dataEnd > size) {
      throw new FitsError(
        `truncated file: the data need ${dataSize} bytes from offset ${dataOffset}, the file has ${
          size - dataOffset
        }`,
        ctx(lastAxis),
      );
    }
    const paddedEnd = dataOffset + Math.ceil(dataSize / BLOCK) * BLOCK;
    if (paddedEnd > size) {
      throw new FitsError(`data not padded to a multiple of 2880 bytes`, ctx(lastAxis));
    }
    this.#hdus.push(
      new Hdu(this, { index, stored: header, headerOffset: offset, dataOffset, dataSize }),
    );
    this.#next = paddedEnd;
    return true;
  }
}

/** Bytes of data an HDU header announces (without padding); checks BITPIX and NAXISn. */
export function dataSizeOf(header: Header, ctx: (card?: string) => FitsErrorContext): number {
  const bitpixV = header.get("BITPIX");
  if (typeof bitpixV !== "number") throw new FitsError("missing or invalid BITPIX", ctx("BITPIX"));
  const bpp = bytesPerPixel(bitpixV, ctx("BITPIX"));
  const naxis = header.get("NAXIS");
  if (typeof naxis !== "number" || !Number.isInteger(naxis) || naxis < 0 || naxis > 999) {
    throw new FitsError(`invalid NAXIS ${String(naxis)}`, ctx("NAXIS"));
  }
  if (naxis === 0) return 0;
  let n = 1;
  const groups = header.get("GROUPS") === true && header.get("NAXIS1") === 0;
  for (let k = 1; k <= naxis; k++) {
    const v = header.get(`NAXIS${k}`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new FitsError(`invalid or missing NAXIS${k}`, ctx(`NAXIS${k}`));
    }
    if (!(groups && k === 1)) n *= v;
  }
  const pcount = header.getNumber("PCOUNT", 0)!;
  const gcount = header.getNumber("GCOUNT", 1)!;
  if (!Number.isInteger(pcount) || pcount < 0) throw new FitsError("invalid PCOUNT", ctx("PCOUNT"));
  if (!Number.isInteger(gcount) || gcount < 0) throw new FitsError("invalid GCOUNT", ctx("GCOUNT"));
  return bpp * gcount * (pcount + n);
}

/** Anything {@linkcode openFits} accepts: a ByteSource, bytes, or a local file path. */
export type FitsInput = ByteSource | Uint8Array | string;

/** Options of {@linkcode openFits} and {@linkcode readFits}. */
export interface OpenOptions {
  /** Name used in errors. @default the source's name, the path, or "<memory>" */
  name?: string;
}

/**
 * Opens a FITS file lazily: nothing but the first header block is read until an
 * HDU is asked for. A gzip-compressed file is decompressed in memory first.
 */
export async function openFits(input: FitsInput, options: OpenOptions = {}): Promise<FitsFile> {
  let source: ByteSource = typeof input === "string"
    ? fileSource(input)
    : input instanceof Uint8Array
    ? bytesSource(input, options.name)
    : input;
  const name = options.name ?? source.name;
  const size = await source.size();
  const head = await source.read(0, Math.min(2, size));
  if (isGzip(head)) {
    const all = await source.read(0, size);
    await source.close?.();
    source = bytesSource(await gunzip(all), name);
  }
  return new FitsFile(source, name);
}

/** Reads a whole FITS file into memory and scans every header. */
export async function readFits(input: FitsInput, options: OpenOptions = {}): Promise<FitsFile> {
  let bytes: Uint8Array;
  let name = options.name;
  if (typeof input === "string") {
    bytes = await Deno.readFile(input);
    name ??= input;
  } else if (input instanceof Uint8Array) {
    bytes = input;
  } else {
    bytes = await input.read(0, await input.size());
    name ??= input.name;
  }
  const file = await openFits(bytes, { name });
  await file.hdus();
  return file;
}
