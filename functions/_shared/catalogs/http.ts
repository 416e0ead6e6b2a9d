/**
 * Gaia DR3 excerpts over HTTP, from a server speaking the rectangle API the
 * SeeChange pipeline uses: GET {base}/gaiarect/{minra}/{maxra}/{mindec}/{maxdec}.
 *
 * The reply is parsed tolerantly, because excerpt servers differ in how they wrap
 * the table: a JSON object of columns (name -> array of values, optionally under a
 * "data" key, with an optional "status"/"error"), a JSON array of row objects, or
 * CSV with a header row. Column names follow the Gaia archive (see columns.ts).
 *
 * @module
 */
import type { CatalogSource, RefStar, SkyRect } from "./catalog.ts";
import { type Columns, parseCsv, refStarsFromColumns } from "./columns.ts";

/** Options of {@linkcode HttpGaiaSource}. */
export interface HttpGaiaOptions {
  /** Server base URL, e.g. "https://gaia-excerpts.example.org" (no trailing /gaiarect). */
  base: string;
  /** Faintest G kept (the server may return fainter stars). @default 21 */
  maxMag?: number;
  /** Per-request timeout (ms). @default 60000 */
  timeoutMs?: number;
  /** Attempts on network errors and 5xx replies. @default 3 */
  attempts?: number;
  /** The fetch to use (tests). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Raised when the excerpt server fails or replies with something unreadable. */
export class CatalogFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogFetchError";
  }
}

/** Parses an excerpt server's reply into columns. */
export function parseExcerptReply(body: string, contentType = ""): Columns {
  const text = body.trim();
  if (contentType.includes("json") || text.startsWith("{") || text.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CatalogFetchError(`excerpt reply is not valid JSON: ${(err as Error).message}`);
    }
    if (Array.isArray(json)) {
      const cols: Record<string, unknown[]> = {};
      json.forEach((row, i) => {
        for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
          (cols[k] ??= new Array(json.length).fill(null))[i] = v;
        }
      });
      return cols;
    }
    const obj = json as Record<string, unknown>;
    const status = obj.status;
    if (typeof status === "string" && !["ok", "success"].includes(status.toLowerCase())) {
      throw new CatalogFetchError(`excerpt server: ${status} ${String(obj.error ?? "")}`.trim());
    }
    if (obj.error && !obj.ra && !obj.data) throw new CatalogFetchError(String(obj.error));
    const data = (obj.data ?? obj) as Record<string, unknown>;
    if (Array.isArray(data)) return parseExcerptReply(JSON.stringify(data));
    const cols: Columns = {};
    for (const [k, v] of Object.entries(data)) if (Array.isArray(v)) cols[k] = v;
    return cols;
  }
  return parseCsv(text);
}

/** Formats a coordinate for the URL (fixed decimals, so equal rectangles give equal URLs). */
function coord(v: number): string {
  return v.toFixed(6);
}

/** A Gaia DR3 excerpt server. */
export class HttpGaiaSource implements CatalogSource {
  readonly name = "gaia_dr3_http";
  readonly #opts: Required<Omit<HttpGaiaOptions, "fetch">> & { fetch: typeof fetch };

  constructor(options: HttpGaiaOptions) {
    this.#opts = {
      base: options.base.replace(/\/+$/, ""),
      maxMag: options.maxMag ?? 21,
      timeoutMs: options.timeoutMs ?? 60000,
      attempts: options.attempts ?? 3,
      fetch: options.fetch ?? globalThis.fetch,
    };
  }

  /** The URL of a rectangle. */
  url(rect: SkyRect): string {
    const o = this.#opts;
    return `${o.base}/gaiarect/${coord(rect.minRa)}/${coord(rect.maxRa)}/` +
      `${coord(rect.minDec)}/${coord(rect.maxDec)}`;
  }

  async rect(rect: SkyRect): Promise<RefStar[]> {
    const o = this.#opts;
    const url = this.url(rect);
    let last: unknown;
    for (let attempt = 1; attempt <= o.attempts; attempt++) {
      try {
        const res = await o.fetch(url, { signal: AbortSignal.timeout(o.timeoutMs) });
        const body = await res.text();
        if (res.status >= 500) throw new CatalogFetchError(`${url}: HTTP ${res.status}`);
        if (!res.ok) {
          // a client error will not go away on retry
          throw Object.assign(
            new CatalogFetchError(`${url}: HTTP ${res.status} ${body.slice(0, 200)}`),
            {
              final: true,
            },
          );
        }
        const stars = refStarsFromColumns(
          parseExcerptReply(body, res.headers.get("content-type") ?? ""),
        );
        return stars.filter((s) => !(s.g > o.maxMag));
      } catch (err) {
        last = err;
        if ((err as { final?: boolean }).final) break;
        if (attempt < o.attempts) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    if (last instanceof CatalogFetchError) throw last;
    throw new CatalogFetchError(`${url}: ${(last as Error)?.message ?? last}`);
  }
}
