/**
 * Object keys of products: derived from what the product is and its provenance,
 * so they never change and a rerun writes the same key (DESIGN.md, "Products").
 *
 * @module
 */

/** The product kinds stored as objects. */
export type ProductKind =
  | "image"
  | "background"
  | "sources"
  | "psf"
  | "cutouts"
  | "score"
  | "headersummary";

const EXTENSION: Record<ProductKind, string> = {
  image: "image.fits",
  background: "bkg.fits",
  sources: "sources.fits",
  psf: "psf.fits",
  cutouts: "cutouts.fits",
  score: "score.fits",
  headersummary: "summary.json",
};

function safe(part: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(part)) {
    throw new RangeError(`"${part}" cannot be part of an object key`);
  }
  return part;
}

/**
 * The key of a product made from (exposure, section), or from an image for
 * products of coadds and references: `<kind>/<exposure>/<section>/<provenance>.<ext>`
 * or `<kind>/image/<image id>/<provenance>.<ext>`.
 */
export function productKey(
  kind: ProductKind,
  source: { exposureId: string; sectionId: string } | { imageId: string },
  provenanceId: string,
): string {
  const where = "imageId" in source
    ? `image/${safe(source.imageId)}`
    : `${safe(source.exposureId)}/${safe(source.sectionId)}`;
  return `${kind}/${where}/${safe(provenanceId)}.${EXTENSION[kind]}`;
}
