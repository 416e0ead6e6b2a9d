/**
 * A reference catalog from a file: a FITS binary table (the first BINTABLE, or the
 * one named) or CSV, with Gaia-archive or our column names (see columns.ts).
 * The file is read once; rectangles are cut from it in memory.
 *
 * @module
 */
import { readFits } from "../fits/reader.ts";
import { type CatalogSource, inRect, type RefStar, type SkyRect } from "./catalog.ts";
import { type Columns, parseCsv, refStarsFromColumns } from "./columns.ts";

/** Reads RefStars from FITS (BINTABLE) or CSV bytes; `format` is guessed when absent. */
export async function readCatalogFile(
  bytes: Uint8Array,
  format?: "fits" | "csv",
  table?: string,
): Promise<RefStar[]> {
  const head = new TextDecoder().decode(bytes.subarray(0, 9));
  const fmt = format ?? (head.startsWith("SIMPLE") ? "fits" : "csv");
  if (fmt === "csv") return refStarsFromColumns(parseCsv(new TextDecoder().decode(bytes)));
  const f = await readFits(bytes);
  let t;
  if (table) t = await f.table(table);
  else {
    const h = (await f.hdus()).find((x) => x.kind === "bintable" && !x.header.get("ZIMAGE"));
    if (!h) throw new Error("catalog file has no binary table");
    t = await h.readTable();
  }
  const cols: Columns = {};
  for (const c of t.columns) {
    if (Array.isArray(c.data) && c.data.length > 0 && ArrayBuffer.isView(c.data[0])) continue;
    cols[c.name] = c.data as ArrayLike<unknown>;
  }
  return refStarsFromColumns(cols);
}

/** A catalog held in a file. */
export class FileCatalogSource implements CatalogSource {
  readonly name: string;
  #stars: Promise<RefStar[]> | null = null;
  readonly #load: () => Promise<RefStar[]>;

  /** @param path a local path; or pass `bytes` to read from memory */
  constructor(
    options: {
      path?: string;
      bytes?: Uint8Array;
      format?: "fits" | "csv";
      table?: string;
      name?: string;
    },
  ) {
    if (!options.path && !options.bytes) throw new Error("FileCatalogSource needs a path or bytes");
    this.name = options.name ?? "file";
    this.#load = async () =>
      readCatalogFile(
        options.bytes ?? (await Deno.readFile(options.path!)),
        options.format,
        options.table,
      );
  }

  async rect(rect: SkyRect): Promise<RefStar[]> {
    this.#stars ??= this.#load();
    return (await this.#stars).filter((s) => inRect(rect, s.ra, s.dec));
  }
}
