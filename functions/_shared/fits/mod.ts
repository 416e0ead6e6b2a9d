/**
 * FITS read and write: primary and IMAGE HDUs (BITPIX 8/16/32/64/-32/-64 with
 * BSCALE/BZERO/BLANK and the unsigned conventions), binary tables, headers with
 * exact card round trip, gzip-compressed files and tile-compressed images
 * (RICE_1 with Rice decoding in the C core, GZIP_1/2, quantization with
 * subtractive dithering). Reading goes through a small {@linkcode ByteSource}
 * so one HDU of a large file can be read with ranged reads.
 *
 * Pixel arrays are row-major with NAXIS1 fastest; `axes` lists NAXIS1, NAXIS2...
 *
 * @module
 */
export { FitsError, type FitsErrorContext } from "./errors.ts";
export {
  type ByteSource,
  bytesSource,
  fileSource,
  gunzip,
  gzip,
  isGzip,
  objectSource,
  type RangedStore,
} from "./source.ts";
export {
  BLOCK,
  Card,
  type CardValue,
  formatCard,
  formatNumber,
  Header,
  parseCards,
} from "./header.ts";
export { type Bitpix, type FitsImage, type ImageArray } from "./image.ts";
export {
  column,
  type ColumnData,
  type ColumnInput,
  type FitsTable,
  type TableColumn,
} from "./table.ts";
export { type CompressOptions, READ_CMPTYPES } from "./tiled.ts";
export {
  FitsFile,
  type FitsInput,
  Hdu,
  type HduKind,
  openFits,
  type OpenOptions,
  readFits,
} from "./reader.ts";
export { type HduInput, type ImageHduInput, type TableHduInput, writeFits } from "./writer.ts";
