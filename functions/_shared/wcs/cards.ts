/**
 * WCS header cards in and out: CTYPE 'RA---TAN' / 'RA---TAN-SIP' / 'RA---TPV'
 * with their DEC-- partners, CRPIX, CRVAL, the CD matrix (or PC x CDELT, or
 * CDELT with CROTA2), SIP A/B/AP/BP and TPV PV1_k/PV2_k.
 *
 * @module
 */
import {
  makeWcs,
  type SipPolynomials,
  type TpvPolynomials,
  type Wcs,
  type WcsParams,
} from "./wcs.ts";

/** A header card value, as the FITS module's Header returns. */
type CardValue = string | number | bigint | boolean | null;

/** Anything with header values: a fits Header, a plain record, or a Map. */
export type HeaderLike =
  | { get(key: string): CardValue | undefined }
  | Record<string, CardValue | undefined>;

/** A WCS header is missing, inconsistent or of an unsupported kind. */
export class WcsError extends Error {
  /** The keyword at fault, when one is. */
  readonly card?: string;
  constructor(message: string, card?: string) {
    super(card ? `${card}: ${message}` : message);
    this.name = "WcsError";
    this.card = card;
  }
}

function getter(h: HeaderLike): (k: string) => CardValue | undefined {
  if (typeof (h as { get?: unknown }).get === "function") {
    const g = h as { get(key: string): CardValue | undefined };
    return (k) => g.get(k);
  }
  const r = h as Record<string, CardValue | undefined>;
  return (k) => r[k];
}

function num(
  get: (k: string) => CardValue | undefined,
  key: string,
  fallback?: number,
): number | undefined {
  const v = get(key);
  if (v === undefined || v === null) return fallback;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  throw new WcsError(`expected a number, found ${JSON.stringify(v)}`, key);
}

function polyFrom(
  get: (k: string) => CardValue | undefined,
  prefix: string,
  order: number,
): number[][] {
  const c: number[][] = [];
  for (let p = 0; p <= order; p++) {
    c.push([]);
    for (let q = 0; p + q <= order; q++) c[p].push(num(get, `${prefix}_${p}_${q}`, 0)!);
  }
  return c;
}

/**
 * Reads a celestial TAN, TAN-SIP or TPV WCS from header values. Axis 1 must be
 * right ascension and axis 2 declination; LONPOLE, if present, must be 180.
 * Throws WcsError otherwise.
 */
export function wcsFromHeader(header: HeaderLike): Wcs {
  const get = getter(header);
  const c1 = String(get("CTYPE1") ?? "").trim().toUpperCase();
  const c2 = String(get("CTYPE2") ?? "").trim().toUpperCase();
  const m1 = /^RA--?-?(TAN|TPV|TAN-SIP)$/.exec(c1);
  const m2 = /^DEC-?-?(TAN|TPV|TAN-SIP)$/.exec(c2);
  if (!m1) throw new WcsError(`unsupported CTYPE1 ${JSON.stringify(c1)}`, "CTYPE1");
  if (!m2 || m2[1] !== m1[1]) {
    throw new WcsError(`unsupported or mismatched CTYPE2 ${JSON.stringify(c2)}`, "CTYPE2");
  }
  const kind = m1[1];
  const lonpole = num(get, "LONPOLE");
  if (lonpole !== undefined && lonpole !== 180) {
    throw new WcsError("only LONPOLE = 180 is supported", "LONPOLE");
  }
  for (const k of ["CUNIT1", "CUNIT2"]) {
    const u = get(k);
    if (typeof u === "string" && u.trim() !== "" && u.trim().toLowerCase() !== "deg") {
      throw new WcsError(`unsupported unit ${u}`, k);
    }
  }
  const crpix: [number, number] = [num(get, "CRPIX1", 0)!, num(get, "CRPIX2", 0)!];
  const crval: [number, number] = [num(get, "CRVAL1", 0)!, num(get, "CRVAL2", 0)!];
  let cd: [[number, number], [number, number]];
  const hasCd = ["CD1_1", "CD1_2", "CD2_1", "CD2_2"].some((k) => get(k) !== undefined);
  if (hasCd) {
    cd = [[num(get, "CD1_1", 0)!, num(get, "CD1_2", 0)!], [
      num(get, "CD2_1", 0)!,
      num(get, "CD2_2", 0)!,
    ]];
  } else {
    const cdelt1 = num(get, "CDELT1", 1)!, cdelt2 = num(get, "CDELT2", 1)!;
    const hasPc = ["PC1_1", "PC1_2", "PC2_1", "PC2_2"].some((k) => get(k) !== undefined);
    if (hasPc) {
      cd = [
        [num(get, "PC1_1", 1)! * cdelt1, num(get, "PC1_2", 0)! * cdelt1],
        [num(get, "PC2_1", 0)! * cdelt2, num(get, "PC2_2", 1)! * cdelt2],
      ];
    } else {
      const rot = (num(get, "CROTA2", 0)! * Math.PI) / 180;
      cd = [
        [cdelt1 * Math.cos(rot), -cdelt2 * Math.sin(rot)],
        [cdelt1 * Math.sin(rot), cdelt2 * Math.cos(rot)],
      ];
    }
  }
  const params: WcsParams = { crpix, crval, cd };
  if (kind === "TAN-SIP") {
    const order = num(get, "A_ORDER");
    const border = num(get, "B_ORDER");
    if (order === undefined) throw new WcsError("TAN-SIP without A_ORDER", "A_ORDER");
    if (border === undefined) throw new WcsError("TAN-SIP without B_ORDER", "B_ORDER");
    const sip: SipPolynomials = {
      order: Math.max(order, border),
      a: polyFrom(get, "A", order),
      b: polyFrom(get, "B", border),
    };
    const ap = num(get, "AP_ORDER"), bp = num(get, "BP_ORDER");
    if (ap !== undefined && bp !== undefined) {
      sip.inverseOrder = Math.max(ap, bp);
      sip.ap = polyFrom(get, "AP", ap);
      sip.bp = polyFrom(get, "BP", bp);
    }
    params.sip = sip;
  } else if (kind === "TPV") {
    const tpv: TpvPolynomials = { pv1: new Array(40).fill(0), pv2: new Array(40).fill(0) };
    for (let k = 0; k < 40; k++) {
      tpv.pv1[k] = num(get, `PV1_${k}`, k === 1 ? 1 : 0)!;
      tpv.pv2[k] = num(get, `PV2_${k}`, k === 1 ? 1 : 0)!;
    }
    params.tpv = tpv;
  }
  return makeWcs(params);
}

/** A header card: keyword, value, comment. */
export type WcsCard = [string, string | number, string];

/** Header cards describing a WCS (CRPIX in the FITS 1-based convention). */
export function wcsToCards(wcs: WcsParams & { type?: string }): WcsCard[] {
  const type = wcs.sip ? "TAN-SIP" : wcs.tpv ? "TPV" : "TAN";
  const cards: WcsCard[] = [
    ["WCSAXES", 2, "number of World Coordinate System axes"],
    ["CTYPE1", type === "TAN-SIP" ? "RA---TAN-SIP" : `RA---${type}`, "gnomonic projection"],
    ["CTYPE2", type === "TAN-SIP" ? "DEC--TAN-SIP" : `DEC--${type}`, "gnomonic projection"],
    ["CUNIT1", "deg", "unit of CRVAL1 and CD1_j"],
    ["CUNIT2", "deg", "unit of CRVAL2 and CD2_j"],
    ["RADESYS", "ICRS", "reference frame"],
    ["CRPIX1", wcs.crpix[0], "reference pixel, axis 1 (1-based)"],
    ["CRPIX2", wcs.crpix[1], "reference pixel, axis 2 (1-based)"],
    ["CRVAL1", wcs.crval[0], "[deg] RA at the reference pixel"],
    ["CRVAL2", wcs.crval[1], "[deg] Dec at the reference pixel"],
    ["CD1_1", wcs.cd[0][0], "[deg/pixel] linear transformation matrix"],
    ["CD1_2", wcs.cd[0][1], "[deg/pixel] linear transformation matrix"],
    ["CD2_1", wcs.cd[1][0], "[deg/pixel] linear transformation matrix"],
    ["CD2_2", wcs.cd[1][1], "[deg/pixel] linear transformation matrix"],
  ];
  const poly = (prefix: string, c: number[][] | undefined, order: number) => {
    cards.push([`${prefix}_ORDER`, order, `SIP polynomial order, ${prefix}`]);
    for (let p = 0; p <= order; p++) {
      for (let q = 0; p + q <= order; q++) {
        const v = c?.[p]?.[q] ?? 0;
        if (v !== 0) cards.push([`${prefix}_${p}_${q}`, v, ""]);
      }
    }
  };
  if (wcs.sip) {
    poly("A", wcs.sip.a, wcs.sip.order);
    poly("B", wcs.sip.b, wcs.sip.order);
    if (wcs.sip.ap && wcs.sip.bp) {
      const io = wcs.sip.inverseOrder ?? wcs.sip.order;
      poly("AP", wcs.sip.ap, io);
      poly("BP", wcs.sip.bp, io);
    }
  }
  if (wcs.tpv) {
    for (const [axis, pv] of [[1, wcs.tpv.pv1], [2, wcs.tpv.pv2]] as const) {
      pv.forEach((v, k) => {
        if (v !== 0 || k === 1) cards.push([`PV${axis}_${k}`, v, "TPV distortion coefficient"]);
      });
    }
  }
  return cards;
}
