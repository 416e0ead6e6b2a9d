/**
 * SimSky: a deterministic synthetic sky. The sky is cut into HEALPix NESTED tiles
 * (order {@linkcode SimSkyOptions.tileOrder}); each tile's content is drawn from a
 * generator seeded by (seed, order, tile index), so any region renders the same
 * every time, whatever was asked before.
 *
 * Content of a tile:
 * - stars with G between `starBrightMag` and `starFaintMag`, number counts rising
 *   `starSlope` dex per magnitude; BP-RP colours from a two-population mixture;
 *   Gaia G/BP/RP (G - RP from the Riello et al. 2021 polynomial in BP-RP);
 *   absolute magnitudes from colour give distances, hence parallaxes, and
 *   tangential velocities give proper motions; positions at epoch 2016.0;
 * - a fraction of the stars variable (sinusoidal light curves);
 * - galaxies: Sersic index, half-light radius shrinking with magnitude, axis
 *   ratio, position angle, and magnitudes in u g r i z Y;
 * - transients (optional): a peak date, a peak magnitude per band, a Gaussian rise
 *   and a linear (in magnitude) decline; a fraction sit on a galaxy of the tile;
 * - moving objects (optional): drawn per tile and per night (integer MJD), moving
 *   in a straight line at a constant rate during that night only.
 *
 * Numbers are illustrative of a high-latitude field at DECam depth; they are
 * parameters, not a model of the Galaxy.
 *
 * @module
 */
import { angularSeparationDeg, coneRanges, maxPixelRadiusDeg, pix2angNest } from "../sky/mod.ts";
import { GAIA_EPOCH, inRect, rectCone, type RefStar, type SkyRect } from "../catalogs/catalog.ts";
import { hashSeed, Rng } from "./random.ts";

/** Bands the simulated sky knows magnitudes in. */
export const SIM_BANDS = ["u", "g", "r", "i", "z", "Y"] as const;
/** A band name of {@linkcode SIM_BANDS}. */
export type SimBand = typeof SIM_BANDS[number];

/** MJD of the Gaia DR3 epoch J2016.0. */
export const MJD_J2016 = 57388.5;
const DAYS_PER_YEAR = 365.25;
const SKY_AREA_DEG2 = 129600 / Math.PI;
const MAX_TILE_STARS = 2 ** 20;

/** Options of {@linkcode SimSky}; each changes the sky it generates. */
export interface SimSkyOptions {
  /** Global seed: another seed, another sky. @default 1 */
  seed?: number;
  /** HEALPix order of the generation tiles (0.052 deg^2 each at 8). @default 8 */
  tileOrder?: number;
  /** Stars per square degree with starBrightMag <= G < starFaintMag. @default 110000 */
  starsPerDeg2?: number;
  /** Brightest star generated (G). @default 10 */
  starBrightMag?: number;
  /** Faintest star generated (G). @default 24 */
  starFaintMag?: number;
  /** Slope of the star counts: log10 dN/dm rises this much per magnitude. @default 0.3 */
  starSlope?: number;
  /** Galaxies per square degree with galaxyBrightMag <= r < galaxyFaintMag. @default 30000 */
  galaxiesPerDeg2?: number;
  /** Brightest galaxy (r). @default 16 */
  galaxyBrightMag?: number;
  /** Faintest galaxy (r). @default 24 */
  galaxyFaintMag?: number;
  /** Slope of the galaxy counts (dex per magnitude). @default 0.4 */
  galaxySlope?: number;
  /** Fraction of stars that are variable. @default 0.02 */
  variableFraction?: number;
  /** Transients per square degree (0: none). @default 0 */
  transientsPerDeg2?: number;
  /** Peak dates of transients are uniform in [start, end] (MJD). @default [60000, 60100] */
  transientMjdRange?: readonly [number, number];
  /** Fraction of transients placed on a galaxy. @default 0.5 */
  transientHostFraction?: number;
  /** Peak magnitudes (r) of transients are uniform in this range. @default [18, 23] */
  transientMagRange?: readonly [number, number];
  /** Moving objects per square degree per night (0: none). @default 0 */
  movingPerDeg2?: number;
  /** Faintest star in the Gaia-like reference catalog (G). @default 21 */
  gaiaFaintMag?: number;
}

/** A variable star's light curve: mag(t) = mean + amplitude/2 sin(2 pi ((t - MJD_J2016)/period + phase)). */
export interface SimVariability {
  /** Peak-to-peak amplitude (mag). */
  amplitude: number;
  /** Period (days). */
  period: number;
  /** Phase at MJD_J2016, in cycles. */
  phase: number;
}

/** A simulated star (true values). */
export interface SimStar {
  /** Unique id: tile * 2^20 + index within the tile. */
  id: number;
  /** Position (deg) at epoch 2016.0. */
  ra: number;
  dec: number;
  /** Proper motion (mas/yr; pmra includes cos dec). */
  pmra: number;
  pmdec: number;
  /** Parallax (mas). */
  parallax: number;
  /** True mean Gaia magnitudes. */
  g: number;
  bp: number;
  rp: number;
  /** Light curve, when the star is variable. */
  variable: SimVariability | null;
}

/** A simulated galaxy (true values). */
export interface SimGalaxyTruth {
  /** Unique id: tile * 2^20 + index within the tile. */
  id: number;
  ra: number;
  dec: number;
  /** AB-like magnitudes by band. */
  mag: Record<SimBand, number>;
  /** Sersic index. */
  n: number;
  /** Half-light radius along the major axis (arcsec). */
  reArcsec: number;
  /** Axis ratio b/a. */
  q: number;
  /** Position angle of the major axis (deg, east of north). */
  paDeg: number;
}

/** A simulated transient with its light curve. */
export interface SimTransient {
  /** Unique id: tile * 2^20 + index within the tile. */
  id: number;
  ra: number;
  dec: number;
  /** Id of the host galaxy, or null when hostless. */
  hostId: number | null;
  /** Date of peak (MJD). */
  mjdPeak: number;
  /** Peak magnitudes by band. */
  peakMag: Record<SimBand, number>;
  /** Gaussian rise: flux(t < peak) = peak x exp(-((t - peak)/riseDays)^2 / 2). */
  riseDays: number;
  /** Decline after peak (mag/day). */
  declineMagPerDay: number;
}

/** A simulated moving object (asteroid), valid during one night. */
export interface SimMover {
  /** Unique id: hash of tile and night, then index. */
  id: number;
  /** Position (deg) at mjdRef. */
  ra: number;
  dec: number;
  /** Reference date (MJD), the middle of its night. */
  mjdRef: number;
  /** Rates on the sky (deg/day); raRate includes cos dec. */
  raRate: number;
  decRate: number;
  /** Magnitude (r; other bands from a solar-like colour). */
  mag: number;
}

/** Everything drawn in one tile. */
export interface SimTile {
  order: number;
  tile: number;
  stars: SimStar[];
  galaxies: SimGalaxyTruth[];
  transients: SimTransient[];
}

/** Magnitude of a transient in a band at a date (Infinity when it has no flux). */
export function transientMag(t: SimTransient, band: SimBand, mjd: number): number {
  const peak = t.peakMag[band];
  const dt = mjd - t.mjdPeak;
  if (dt >= 0) return peak + t.declineMagPerDay * dt;
  const x = dt / t.riseDays;
  const dm = (2.5 / Math.LN10) * 0.5 * x * x; // -2.5 log10(exp(-x^2/2))
  return dm > 40 ? Infinity : peak + dm;
}

/** Offset (mag) of a variable star from its mean at a date; 0 for a constant star. */
export function variableOffset(star: SimStar, mjd: number): number {
  const v = star.variable;
  if (!v) return 0;
  return 0.5 * v.amplitude * Math.sin(2 * Math.PI * ((mjd - MJD_J2016) / v.period + v.phase));
}

/** Position (deg) of a star at a date, moved by its proper motion (parallax ignored). */
export function starPositionAt(star: SimStar, mjd: number): { ra: number; dec: number } {
  const years = (mjd - MJD_J2016) / DAYS_PER_YEAR;
  const dec = star.dec + (star.pmdec * years) / 3.6e6;
  const cosd = Math.cos((star.dec * Math.PI) / 180);
  let ra = star.ra + (star.pmra * years) / 3.6e6 / Math.max(cosd, 1e-9);
  ra = ((ra % 360) + 360) % 360;
  return { ra, dec };
}

/** Position (deg) of a moving object at a date. */
export function moverPositionAt(m: SimMover, mjd: number): { ra: number; dec: number } {
  const dt = mjd - m.mjdRef;
  const dec = m.dec + m.decRate * dt;
  const cosd = Math.cos((m.dec * Math.PI) / 180);
  const ra = (((m.ra + (m.raRate * dt) / Math.max(cosd, 1e-9)) % 360) + 360) % 360;
  return { ra, dec };
}

/** G - RP as a function of BP - RP (Riello et al. 2021, table C2 form). */
export function gaiaGminusRp(bpRp: number): number {
  const c = bpRp;
  return -0.02275 + 0.3961 * c - 0.1243 * c * c - 0.01396 * c ** 3 + 0.003775 * c ** 4;
}

/** A magnitude drawn from counts rising `slope` dex/mag between bright and faint. */
function drawMag(rng: Rng, bright: number, faint: number, slope: number): number {
  const span = 10 ** (slope * (faint - bright)) - 1;
  return bright + Math.log10(1 + rng.uniform() * span) / slope;
}

/**
 * The synthetic sky. Tiles are generated on demand and kept in a small cache;
 * every query result depends only on the options and the query.
 */
export class SimSky {
  /** Resolved options (every default filled in). */
  readonly options: Required<SimSkyOptions>;
  readonly #cache = new Map<number, SimTile>();
  readonly #cacheSize = 128;

  constructor(options: SimSkyOptions = {}) {
    this.options = {
      seed: options.seed ?? 1,
      tileOrder: options.tileOrder ?? 8,
      starsPerDeg2: options.starsPerDeg2 ?? 110000,
      starBrightMag: options.starBrightMag ?? 10,
      starFaintMag: options.starFaintMag ?? 24,
      starSlope: options.starSlope ?? 0.3,
      galaxiesPerDeg2: options.galaxiesPerDeg2 ?? 30000,
      galaxyBrightMag: options.galaxyBrightMag ?? 16,
      galaxyFaintMag: options.galaxyFaintMag ?? 24,
      galaxySlope: options.galaxySlope ?? 0.4,
      variableFraction: options.variableFraction ?? 0.02,
      transientsPerDeg2: options.transientsPerDeg2 ?? 0,
      transientMjdRange: options.transientMjdRange ?? [60000, 60100],
      transientHostFraction: options.transientHostFraction ?? 0.5,
      transientMagRange: options.transientMagRange ?? [18, 23],
      movingPerDeg2: options.movingPerDeg2 ?? 0,
      gaiaFaintMag: options.gaiaFaintMag ?? 21,
    };
    const o = this.options;
    if (!Number.isInteger(o.tileOrder) || o.tileOrder < 2 || o.tileOrder > 12) {
      throw new RangeError(`tileOrder ${o.tileOrder} out of 2..12`);
    }
    if (!(o.starFaintMag > o.starBrightMag) || !(o.galaxyFaintMag > o.galaxyBrightMag)) {
      throw new RangeError("faint magnitude limits must exceed bright ones");
    }
  }

  /** Area of one tile (deg^2). */
  get tileAreaDeg2(): number {
    return SKY_AREA_DEG2 / (12 * 4 ** this.options.tileOrder);
  }

  /** A uniformly distributed position inside a tile (HEALPix is equal-area). */
  #positionIn(rng: Rng, tile: number): { ra: number; dec: number } {
    const shift = 24 - this.options.tileOrder;
    const sub = 4 ** shift;
    return pix2angNest(24, tile * sub + rng.int(sub));
  }

  /** Generates (or returns from the cache) the content of one tile. */
  tile(tile: number): SimTile {
    const cached = this.#cache.get(tile);
    if (cached) return cached;
    const t = this.#generate(tile);
    if (this.#cache.size >= this.#cacheSize) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(tile, t);
    return t;
  }

  #generate(tile: number): SimTile {
    const o = this.options;
    const area = this.tileAreaDeg2;
    const base = tile * MAX_TILE_STARS;
    // one generator per population, so adding transients leaves stars unchanged
    const starRng = new Rng(hashSeed(o.seed, o.tileOrder, tile, 1));
    const nStars = Math.min(MAX_TILE_STARS, starRng.poisson(o.starsPerDeg2 * area));
    const stars: SimStar[] = [];
    for (let k = 0; k < nStars; k++) {
      const { ra, dec } = this.#positionIn(starRng, tile);
      const g = drawMag(starRng, o.starBrightMag, o.starFaintMag, o.starSlope);
      const giant = starRng.uniform() < 0.1;
      const bpRp = Math.min(
        4,
        Math.max(-0.3, giant ? starRng.normal(1.3, 0.3) : starRng.normal(1.1, 0.5)),
      );
      const absG = giant ? starRng.normal(0.8, 0.8) : 1.2 + 3.6 * bpRp + starRng.normal(0, 0.4);
      const distPc = 10 ** ((g - absG + 5) / 5);
      const parallax = 1000 / distPc;
      const kpc = distPc / 1000;
      // tangential velocity (km/s): dispersion plus a solar reflex along a fixed direction
      const vra = starRng.normal(-15, 35), vdec = starRng.normal(-10, 30);
      const pmra = vra / (4.74 * kpc), pmdec = vdec / (4.74 * kpc);
      const rp = g - gaiaGminusRp(bpRp);
      const variable = starRng.uniform() < o.variableFraction
        ? {
          amplitude: starRng.range(0.05, 0.8),
          period: starRng.logUniform(0.05, 50),
          phase: starRng.uniform(),
        }
        : null;
      stars.push({ id: base + k, ra, dec, pmra, pmdec, parallax, g, bp: rp + bpRp, rp, variable });
    }
    const galRng = new Rng(hashSeed(o.seed, o.tileOrder, tile, 2));
    const nGal = Math.min(MAX_TILE_STARS, galRng.poisson(o.galaxiesPerDeg2 * area));
    const galaxies: SimGalaxyTruth[] = [];
    for (let k = 0; k < nGal; k++) {
      const { ra, dec } = this.#positionIn(galRng, tile);
      const r = drawMag(galRng, o.galaxyBrightMag, o.galaxyFaintMag, o.galaxySlope);
      const kind = galRng.uniform();
      const n = kind < 0.55
        ? galRng.range(0.7, 1.5)
        : kind < 0.8
        ? galRng.range(1.5, 2.5)
        : galRng.range(2.5, 4.5);
      const reArcsec = Math.min(
        15,
        Math.max(0.15, 1.5 * 10 ** (-0.1 * (r - 18) + galRng.normal(0, 0.2))),
      );
      const q = n < 2 ? galRng.range(0.25, 1) : galRng.range(0.5, 1);
      const gr = galRng.normal(0.7, 0.2), ri = galRng.normal(0.35, 0.1);
      const iz = galRng.normal(0.2, 0.08), zy = galRng.normal(0.1, 0.05);
      const mag = {
        u: r + gr + galRng.normal(1.3, 0.3),
        g: r + gr,
        r,
        i: r - ri,
        z: r - ri - iz,
        Y: r - ri - iz - zy,
      };
      galaxies.push({ id: base + k, ra, dec, mag, n, reArcsec, q, paDeg: galRng.range(0, 180) });
    }
    const trRng = new Rng(hashSeed(o.seed, o.tileOrder, tile, 3));
    const nTr = Math.min(MAX_TILE_STARS, trRng.poisson(o.transientsPerDeg2 * area));
    const transients: SimTransient[] = [];
    for (let k = 0; k < nTr; k++) {
      let ra: number, dec: number, hostId: number | null = null;
      if (galaxies.length > 0 && trRng.uniform() < o.transientHostFraction) {
        const host = galaxies[trRng.int(galaxies.length)];
        hostId = host.id;
        // offset along the host's light: up to 1.5 half-light radii in its own frame
        const rr = trRng.uniform() * 1.5 * host.reArcsec;
        const phi = trRng.range(0, 2 * Math.PI);
        const a = rr * Math.cos(phi), b = rr * host.q * Math.sin(phi);
        const pa = (host.paDeg * Math.PI) / 180;
        const dNorth = a * Math.cos(pa) - b * Math.sin(pa);
        const dEast = a * Math.sin(pa) + b * Math.cos(pa);
        dec = host.dec + dNorth / 3600;
        ra = (host.ra + dEast / 3600 / Math.cos((host.dec * Math.PI) / 180) + 360) % 360;
      } else {
        ({ ra, dec } = this.#positionIn(trRng, tile));
      }
      const r = trRng.range(o.transientMagRange[0], o.transientMagRange[1]);
      const gr = trRng.normal(0, 0.2), ri = trRng.normal(0, 0.15);
      const peakMag = {
        u: r + gr + trRng.normal(0, 0.3),
        g: r + gr,
        r,
        i: r - ri,
        z: r - ri - trRng.normal(0, 0.1),
        Y: r - ri - trRng.normal(0.05, 0.1),
      };
      transients.push({
        id: base + k,
        ra,
        dec,
        hostId,
        mjdPeak: trRng.range(o.transientMjdRange[0], o.transientMjdRange[1]),
        peakMag,
        riseDays: trRng.range(3, 20),
        declineMagPerDay: trRng.range(0.02, 0.1),
      });
    }
    return { order: o.tileOrder, tile, stars, galaxies, transients };
  }

  /** Moving objects of one tile during one night (integer MJD). */
  movers(tile: number, night: number): SimMover[] {
    const o = this.options;
    if (!(o.movingPerDeg2 > 0)) return [];
    const rng = new Rng(hashSeed(o.seed, o.tileOrder, tile, 4, night));
    const n = rng.poisson(o.movingPerDeg2 * this.tileAreaDeg2);
    const out: SimMover[] = [];
    for (let k = 0; k < n; k++) {
      const { ra, dec } = this.#positionIn(rng, tile);
      const speed = rng.range(0.1, 0.6); // deg/day
      const dir = rng.range(0, 2 * Math.PI);
      out.push({
        id: hashSeed(o.seed, tile, night) * 1024 + Math.min(k, 1023),
        ra,
        dec,
        mjdRef: night + 0.5,
        raRate: speed * Math.sin(dir),
        decRate: speed * Math.cos(dir),
        mag: rng.range(18, 22.5),
      });
    }
    return out;
  }

  /** Tiles that may hold points within radiusDeg of (ra, dec). */
  tilesInCone(ra: number, dec: number, radiusDeg: number): number[] {
    const tiles: number[] = [];
    for (const [lo, hi] of coneRanges(this.options.tileOrder, ra, dec, radiusDeg)) {
      for (let t = lo; t < hi; t++) tiles.push(t);
    }
    return tiles;
  }

  /** Stars whose 2016.0 position is within radiusDeg of (ra, dec). */
  starsInCone(ra: number, dec: number, radiusDeg: number): SimStar[] {
    const out: SimStar[] = [];
    for (const t of this.tilesInCone(ra, dec, radiusDeg)) {
      for (const s of this.tile(t).stars) {
        if (angularSeparationDeg(ra, dec, s.ra, s.dec) <= radiusDeg) out.push(s);
      }
    }
    return out;
  }

  /** Galaxies within radiusDeg of (ra, dec). */
  galaxiesInCone(ra: number, dec: number, radiusDeg: number): SimGalaxyTruth[] {
    const out: SimGalaxyTruth[] = [];
    for (const t of this.tilesInCone(ra, dec, radiusDeg)) {
      for (const g of this.tile(t).galaxies) {
        if (angularSeparationDeg(ra, dec, g.ra, g.dec) <= radiusDeg) out.push(g);
      }
    }
    return out;
  }

  /** Transients within radiusDeg of (ra, dec) (hosted ones may come from a neighbour tile). */
  transientsInCone(ra: number, dec: number, radiusDeg: number): SimTransient[] {
    const out: SimTransient[] = [];
    // hosted transients sit up to 1.5 x 15" from their tile's galaxies
    const margin = 1.5 * 15 / 3600;
    for (const t of this.tilesInCone(ra, dec, radiusDeg + margin)) {
      for (const tr of this.tile(t).transients) {
        if (angularSeparationDeg(ra, dec, tr.ra, tr.dec) <= radiusDeg) out.push(tr);
      }
    }
    return out;
  }

  /** Moving objects within radiusDeg of (ra, dec) at a date, with their position then. */
  moversInCone(
    ra: number,
    dec: number,
    radiusDeg: number,
    mjd: number,
  ): Array<SimMover & { raNow: number; decNow: number }> {
    if (!(this.options.movingPerDeg2 > 0)) return [];
    const night = Math.floor(mjd);
    // at most 0.6 deg/day for half a night, plus a tile's size
    const reach = 0.6 * Math.max(Math.abs(mjd - night - 0.5), 0.5) +
      maxPixelRadiusDeg(this.options.tileOrder);
    const out: Array<SimMover & { raNow: number; decNow: number }> = [];
    for (const t of this.tilesInCone(ra, dec, radiusDeg + reach)) {
      for (const m of this.movers(t, night)) {
        const p = moverPositionAt(m, mjd);
        if (angularSeparationDeg(ra, dec, p.ra, p.dec) <= radiusDeg) {
          out.push({ ...m, raNow: p.ra, decNow: p.dec });
        }
      }
    }
    return out;
  }

  /**
   * The Gaia-like reference catalog of a cone: stars with G <= gaiaFaintMag, positions
   * at 2016.0 and every quantity perturbed by its (magnitude-dependent) error, drawn
   * from a generator seeded by the star's id (so overlapping queries agree).
   */
  gaiaCone(ra: number, dec: number, radiusDeg: number): RefStar[] {
    const out: RefStar[] = [];
    for (const s of this.starsInCone(ra, dec, radiusDeg)) {
      if (s.g <= this.options.gaiaFaintMag) out.push(this.gaiaRow(s));
    }
    return out;
  }

  /** The Gaia-like reference catalog of a rectangle. */
  gaiaRect(rect: SkyRect): RefStar[] {
    const c = rectCone(rect);
    return this.gaiaCone(c.ra, c.dec, c.radius).filter((s) => inRect(rect, s.ra, s.dec));
  }

  /** What Gaia would report for a star (errors drawn deterministically from its id). */
  gaiaRow(s: SimStar): RefStar {
    const rng = new Rng(hashSeed(this.options.seed, s.id, 5));
    const f = 10 ** (0.4 * (s.g - 17));
    const posErr = 0.02 + 0.05 * f; // mas
    const plxErr = 1.2 * posErr, pmErr = 0.9 * posErr;
    const gErr = 0.0003 + 0.0004 * f, cErr = 0.001 + 0.003 * f;
    const cosd = Math.cos((s.dec * Math.PI) / 180);
    return {
      id: `sim${s.id}`,
      ra: s.ra + rng.normal(0, posErr) / 3.6e6 / Math.max(cosd, 1e-9),
      dec: s.dec + rng.normal(0, posErr) / 3.6e6,
      raErr: posErr,
      decErr: posErr,
      pmra: s.pmra + rng.normal(0, pmErr),
      pmdec: s.pmdec + rng.normal(0, pmErr),
      pmraErr: pmErr,
      pmdecErr: pmErr,
      parallax: s.parallax + rng.normal(0, plxErr),
      parallaxErr: plxErr,
      g: s.g + rng.normal(0, gErr),
      gErr,
      bp: s.bp + rng.normal(0, cErr),
      bpErr: cErr,
      rp: s.rp + rng.normal(0, cErr),
      rpErr: cErr,
      epoch: GAIA_EPOCH,
    };
  }
}
