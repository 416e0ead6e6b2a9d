/**
 * The error every FITS reader and writer function throws on bad input.
 *
 * @module
 */

/** Where a FITS problem was found. */
export interface FitsErrorContext {
  /** Name of the file or source (a path, an object key, or "<memory>"). */
  file?: string;
  /** Index of the HDU (0 = primary). */
  hdu?: number;
  /** Keyword of the card involved (e.g. "NAXIS2", "END", "ZCMPTYPE"). */
  card?: string;
}

/**
 * Malformed or unsupported FITS input, naming the file, the HDU and the card.
 * The message starts with `file[hdu] card: ` so logs are useful without the fields.
 */
export class FitsError extends Error {
  /** Name of the file or source, when known. */
  readonly file?: string;
  /** Index of the HDU (0 = primary), when known. */
  readonly hdu?: number;
  /** Keyword of the card involved, when one is. */
  readonly card?: string;

  constructor(message: string, context: FitsErrorContext = {}) {
    const where =
      `${context.file ?? "<fits>"}${context.hdu !== undefined ? `[${context.hdu}]` : ""}` +
      `${context.card ? ` ${context.card}` : ""}`;
    super(`${where}: ${message}`);
    this.name = "FitsError";
    this.file = context.file;
    this.hdu = context.hdu;
    this.card = context.card;
  }
}
