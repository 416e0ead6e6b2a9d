/**
 * Image subtraction: ZOGY (Zackay, Ofek & Gal-Yam 2016) on overlapping tiles, Alard-Lupton
 * (Gaussian-basis kernel fit) and naive subtraction.
 *
 * @module
 */
import { checkImage, type CoreVariant, getCore } from "./_module.ts";

/** An image with optional noise information. */
export interface SubtractionImage {
  data: Float32Array;
  width: number;
  height: number;
  /** Pixel variance including source noise (ZOGY's S_corr and flux errors use it). */
  variance?: Float32Array;
}

/** A PSF for ZOGY: a fixed stamp, or a function giving the stamp at a tile centre. */
export type PsfSource = Float32Array | ((x: number, y: number) => Float32Array);

/** Options of {@linkcode zogy}. */
export interface ZogyOptions {
  /** Side (px) of the odd, square PSF stamps. */
  psfSize: number;
  /** Tile side (px); PSFs are evaluated at tile centres. @default 512 */
  tile?: number;
  /** Margin (px) around each tile for the FFTs; > PSF radius. @default 32 */
  overlap?: number;
  /** Photometric scaling F_n of the new image. @default 1 */
  fluxScaleNew?: number;
  /** Photometric scaling F_r of the reference. @default 1 */
  fluxScaleRef?: number;
  /** Background noise of the new image: one value, one per tile, or from the variance image. */
  sigmaNew?: number | Float32Array;
  /** Background noise of the reference, as sigmaNew. */
  sigmaRef?: number | Float32Array;
  /** Astrometric registration rms (px) along x and y for S_corr. @default 0 */
  astromRmsX?: number;
  /** @default 0 */
  astromRmsY?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Per-tile numbers of a ZOGY subtraction. */
export interface ZogyTile {
  /** Flux normalisation of D. */
  fd: number;
  /** S / fs estimates a point source's flux. */
  fs: number;
  sigmaNew: number;
  sigmaRef: number;
  /** The PSF of D (unit sum), psfSize^2 values. */
  pd: Float32Array;
}

/** The products of {@linkcode zogy}, each width * height. */
export interface ZogyResult {
  /** Proper difference D. */
  d: Float32Array;
  /** Proper score S. */
  s: Float32Array;
  /** Score corrected for source and astrometric noise: a significance per pixel. */
  scorr: Float32Array;
  /** PSF flux of a point source at each pixel (new-image flux = flux * F_n). */
  flux: Float32Array;
  /** Error of flux. */
  fluxErr: Float32Array;
  tilesX: number;
  tilesY: number;
  /** Tile (i, j) at index j * tilesX + i. */
  tiles: ZogyTile[];
}

function perTile(
  v: number | Float32Array | undefined,
  n: number,
  name: string,
): Float32Array | null {
  if (v === undefined) return null;
  if (typeof v === "number") return new Float32Array(n).fill(v);
  if (v.length !== n) throw new RangeError(`zogy: ${name} has ${v.length} values for ${n} tiles`);
  return v;
}

/** ZOGY subtraction of ref from newImage (aligned, background-subtracted; see sd_zogy). */
export function zogy(
  newImage: SubtractionImage,
  refImage: SubtractionImage,
  psfNew: PsfSource,
  psfRef: PsfSource,
  options: ZogyOptions,
): ZogyResult {
  const { width, height } = newImage;
  checkImage("zogy new", newImage.data, width, height);
  checkImage("zogy ref", refImage.data, refImage.width, refImage.height);
  if (refImage.width !== width || refImage.height !== height) {
    throw new RangeError("zogy: new and reference images differ in size");
  }
  if (newImage.variance) checkImage("zogy new variance", newImage.variance, width, height);
  if (refImage.variance) checkImage("zogy ref variance", refImage.variance, width, height);
  const ps = options.psfSize, tile = options.tile ?? 512, overlap = options.overlap ?? 32;
  const tilesX = Math.ceil(width / tile), tilesY = Math.ceil(height / tile), nt = tilesX * tilesY;
  const stampsN = new Float32Array(nt * ps * ps), stampsR = new Float32Array(nt * ps * ps);
  for (let j = 0; j < tilesY; j++) {
    for (let i = 0; i < tilesX; i++) {
      const xc = (i * tile + Math.min((i + 1) * tile, width) - 1) / 2;
      const yc = (j * tile + Math.min((j + 1) * tile, height) - 1) / 2;
      for (const [src, dst] of [[psfNew, stampsN], [psfRef, stampsR]] as const) {
        const st = typeof src === "function" ? src(xc, yc) : src;
        if (st.length !== ps * ps) throw new RangeError(`zogy: PSF stamp of ${st.length} values`);
        dst.set(st, (j * tilesX + i) * ps * ps);
      }
    }
  }
  const sn = perTile(options.sigmaNew, nt, "sigmaNew"),
    sr = perTile(options.sigmaRef, nt, "sigmaRef");
  const opts = new Float64Array([
    tile,
    overlap,
    options.fluxScaleNew ?? 1,
    options.fluxScaleRef ?? 1,
    options.astromRmsX ?? 0,
    options.astromRmsY ?? 0,
  ]);
  const core = getCore(options.variant);
  const n = width * height;
  return core.scope((s) => {
    const d = s.f32(n), sc = s.f32(n), scorr = s.f32(n), fl = s.f32(n), fe = s.f32(n);
    const pd = s.f32(nt * ps * ps), table = s.f64(nt * 4);
    // scalar sigmas without variance images: the C side needs both variances or neither
    const useVar = newImage.variance !== undefined && refImage.variance !== undefined;
    core.call(
      "sd_zogy",
      s.copyIn(newImage.data),
      s.copyIn(refImage.data),
      useVar ? s.copyIn(newImage.variance) : 0,
      useVar ? s.copyIn(refImage.variance) : 0,
      width,
      height,
      s.copyIn(sn),
      s.copyIn(sr),
      s.copyIn(stampsN),
      s.copyIn(stampsR),
      ps,
      s.copyIn(opts),
      d,
      sc,
      scorr,
      fl,
      fe,
      pd,
      table,
    );
    const t = s.readF64(table, nt * 4), pds = s.readF32(pd, nt * ps * ps);
    const tiles: ZogyTile[] = [];
    for (let k = 0; k < nt; k++) {
      tiles.push({
        fd: t[4 * k],
        fs: t[4 * k + 1],
        sigmaNew: t[4 * k + 2],
        sigmaRef: t[4 * k + 3],
        pd: pds.slice(k * ps * ps, (k + 1) * ps * ps),
      });
    }
    return {
      d: s.readF32(d, n),
      s: s.readF32(sc, n),
      scorr: s.readF32(scorr, n),
      flux: s.readF32(fl, n),
      fluxErr: s.readF32(fe, n),
      tilesX,
      tilesY,
      tiles,
    };
  });
}

/** Options of the Alard-Lupton functions (sd_al_opts). */
export interface AlardLuptonOptions {
  /** Base Gaussian width (px): basis sigmas 0.5, 1, 1.5 x it. @default 1.5 */
  sigma?: number;
  /** Kernel half-width (px); HOTPANTS uses 2.5 x FWHM. @default ceil(4.5 sigma) */
  halfWidth?: number;
  /** Polynomial degrees with the three Gaussians (-1 drops one). @default [6, 4, 2] */
  degrees?: [number, number, number];
  /** Order of the spatial variation of the kernel (-1 constant, 0-2). @default 1 */
  spatialOrder?: number;
  /** Order of the differential background (-1 none, 0-2). @default 1 */
  backgroundOrder?: number;
  /** Half-side (px) of the fit stamps. @default halfWidth + 3 */
  stampHalf?: number;
  /** Stamp clipping threshold on chi^2 per pixel (median + kappa MAD sigma). @default 3 */
  kappa?: number;
  /** Clipping rounds. @default 3 */
  maxIter?: number;
  /** Stars used at most, in the order given. @default 300 */
  maxStamps?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

function alOpts(o: AlardLuptonOptions): Float64Array {
  const deg = o.degrees ?? [6, 4, 2];
  // 0 means "default" to the C side; -1 disables, so map explicit 0 orders to a tiny value
  const order = (v: number | undefined) => (v === 0 ? 1e-9 : v ?? 0);
  return new Float64Array([
    o.sigma ?? 0,
    o.halfWidth ?? 0,
    order(deg[0]),
    order(deg[1]),
    order(deg[2]),
    order(o.spatialOrder),
    order(o.backgroundOrder),
    o.stampHalf ?? 0,
    o.kappa ?? 0,
    o.maxIter === 0 ? 1e-9 : o.maxIter ?? 0,
    o.maxStamps ?? 0,
  ]);
}

/** An Alard-Lupton solution. */
export interface AlardLuptonFit {
  coeffs: Float64Array;
  /** Stamps kept after clipping. */
  nUsed: number;
  /** Stamps inside the image. */
  nStamps: number;
  /** Chi^2 per pixel of the kept stamps. */
  chi2: number;
  /** Kernel sum at the image centre (flux ratio new / ref). */
  kernelSum: number;
  width: number;
  height: number;
  options: AlardLuptonOptions;
}

/** Fits new ~ K (x) ref + background from stamps around stars (x, y); see sd_al_fit. */
export function alardLuptonFit(
  newImage: SubtractionImage,
  refImage: SubtractionImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: AlardLuptonOptions = {},
): AlardLuptonFit {
  const { width, height } = newImage;
  checkImage("alardLuptonFit new", newImage.data, width, height);
  checkImage("alardLuptonFit ref", refImage.data, width, height);
  if (x.length !== y.length) throw new RangeError("alardLuptonFit: x and y differ in length");
  const core = getCore(options.variant);
  const opts = alOpts(options);
  return core.scope((s) => {
    const o = s.copyIn(opts), np = s.i32(1);
    core.call("sd_al_coeff_count", o, np);
    const nc = s.readI32(np, 1)[0];
    const coeffs = s.f64(nc), info = s.f64(4);
    core.call(
      "sd_al_fit",
      s.copyIn(newImage.data),
      s.copyIn(refImage.data),
      s.copyIn(newImage.variance),
      width,
      height,
      s.copyIn(Float64Array.from(x)),
      s.copyIn(Float64Array.from(y)),
      x.length,
      o,
      coeffs,
      nc,
      info,
    );
    const inf = s.readF64(info, 4);
    return {
      coeffs: s.readF64(coeffs, nc),
      nUsed: inf[0],
      nStamps: inf[1],
      chi2: inf[2],
      kernelSum: inf[3],
      width,
      height,
      options,
    };
  });
}

/** The kernel of a fit at (x, y): (2 halfWidth + 1)^2 values. */
export function alardLuptonKernel(fit: AlardLuptonFit, x: number, y: number): Float32Array {
  const core = getCore(fit.options.variant);
  const opts = alOpts(fit.options);
  const hw = fit.options.halfWidth ?? Math.ceil(4.5 * (fit.options.sigma ?? 1.5));
  const kw = 2 * Math.floor(hw) + 1;
  return core.scope((s) => {
    const k = s.f32(kw * kw);
    core.call(
      "sd_al_kernel",
      s.copyIn(opts),
      s.copyIn(fit.coeffs),
      fit.coeffs.length,
      fit.width,
      fit.height,
      x,
      y,
      k,
    );
    return s.readF32(k, kw * kw);
  });
}

/** Naive or Alard-Lupton difference with its inverse-variance weight. */
export interface Difference {
  diff: Float32Array;
  /** 1 / variance, 0 where unusable. */
  weight: Float32Array;
}

/**
 * Alard-Lupton subtraction. With `convolve: "ref"` (the default; the reference has the
 * narrower PSF) it fits new ~ K (x) ref + B (see {@linkcode alardLuptonFit}) and returns
 * new - (K (x) ref + B) with weight 1 / (var_new + K^2 (x) var_ref); with `convolve: "new"`
 * (the new image is sharper) it fits ref ~ K (x) new + B and returns (K (x) new + B) - ref with
 * weight 1 / (K^2 (x) var_new + var_ref). Unit variances where none are given.
 */
export function alardLupton(
  newImage: SubtractionImage,
  refImage: SubtractionImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: AlardLuptonOptions & {
    /** Which image is convolved: the one with the narrower PSF. @default "ref" */
    convolve?: "ref" | "new";
  } = {},
): Difference & { fit: AlardLuptonFit } {
  const swap = options.convolve === "new";
  const sharp = swap ? newImage : refImage, broad = swap ? refImage : newImage;
  const fit = alardLuptonFit(broad, sharp, x, y, options);
  const { width, height } = newImage;
  const n = width * height;
  const core = getCore(options.variant);
  return core.scope((s) => {
    const conv = s.f32(n), cvar = s.f32(n), diff = s.f32(n), w = s.f32(n);
    core.call(
      "sd_al_convolve",
      s.copyIn(sharp.data),
      s.copyIn(sharp.variance ?? new Float32Array(n).fill(1)),
      width,
      height,
      s.copyIn(alOpts(options)),
      s.copyIn(fit.coeffs),
      fit.coeffs.length,
      conv,
      cvar,
    );
    // weights of the two terms: 1 / var(broad) and 1 / (K^2 (x) var(sharp))
    const vb = broad.variance;
    const wb = new Float32Array(n), wc = s.readF32(cvar, n);
    for (let i = 0; i < n; i++) {
      const v = vb ? vb[i] : 1;
      wb[i] = v > 0 ? 1 / v : 0;
      wc[i] = wc[i] > 0 ? 1 / wc[i] : 0;
    }
    // new - ref either way: broad - conv, or conv - broad (scale -1 and a sign flip)
    core.call(
      "sd_subtract_naive",
      s.copyIn(broad.data),
      s.copyIn(wb),
      conv,
      s.copyIn(wc),
      width,
      height,
      1,
      diff,
      w,
    );
    const d = s.readF32(diff, n);
    if (swap) { for (let i = 0; i < n; i++) d[i] = -d[i]; }
    return { diff: d, weight: s.readF32(w, n), fit };
  });
}

/** Options of {@linkcode subtractNaive}. */
export interface NaiveOptions {
  /** Inverse-variance weight of the new image. @default 1 everywhere */
  weightNew?: Float32Array;
  /** Inverse-variance weight of the reference. @default 1 everywhere */
  weightRef?: Float32Array;
  /** Flux scaling f of the reference onto the new image. @default 1 */
  scale?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** new - f ref with weight 1 / (1/w_new + f^2 / w_ref). */
export function subtractNaive(
  newImage: { data: Float32Array; width: number; height: number },
  refImage: { data: Float32Array; width: number; height: number },
  options: NaiveOptions = {},
): Difference {
  const { width, height } = newImage;
  checkImage("subtractNaive new", newImage.data, width, height);
  checkImage("subtractNaive ref", refImage.data, width, height);
  if (options.weightNew) checkImage("subtractNaive weightNew", options.weightNew, width, height);
  if (options.weightRef) checkImage("subtractNaive weightRef", options.weightRef, width, height);
  const core = getCore(options.variant);
  const n = width * height;
  return core.scope((s) => {
    const diff = s.f32(n), w = s.f32(n);
    core.call(
      "sd_subtract_naive",
      s.copyIn(newImage.data),
      s.copyIn(options.weightNew),
      s.copyIn(refImage.data),
      s.copyIn(options.weightRef),
      width,
      height,
      options.scale ?? 1,
      diff,
      w,
    );
    return { diff: s.readF32(diff, n), weight: s.readF32(w, n) };
  });
}
