/**
 * Reference catalogs (Gaia-DR3-like): the CatalogSource interface; an HTTP source for
 * the excerpt servers' rectangle API, a file source (FITS BINTABLE or CSV), the
 * simulated sky; and the excerpt cache (object + catalog_excerpts row).
 *
 * @module
 */
export * from "./catalog.ts";
export * from "./columns.ts";
export * from "./http.ts";
export * from "./file.ts";
export * from "./sim.ts";
export * from "./cache.ts";
