/**
 * `deno task crossval wcs`: our TAN, TAN-SIP and TPV transforms against astropy.wcs
 * (python3-astropy) over a 2048 x 4096 CCD: a grid of pixel centres every 64 pixels
 * (small) or every 4 pixels (full, 524k points), the last row and column included.
 *
 * Headers: tests/fixtures/sip_header.txt (TAN-SIP, A/B order 3, AP/BP order 4),
 * tests/fixtures/decam_tpv_header.txt (DECam-style TPV), the SIP header with its
 * distortion removed (TAN), and the cards wcsToCards writes for a TAN-SIP fitted
 * to noisy matches drawn from the SIP header ("fitted_sip": checks that astropy
 * reads our cards as we do).
 *
 * Figures, per header (tolerance 1 mas each):
 * - wcs/<name>_pix2sky_max_mas: the largest angular distance between our pixToSky
 *   and astropy's all_pix2world.
 * - wcs/<name>_sky2pix_max_mas: the largest distance between our skyToPix of
 *   astropy's sky positions and astropy's all_world2pix, converted to mas with the
 *   pixel scale.
 *
 * @module
 */
import type { FigureGroup } from "../figure.ts";
import { within } from "../figure.ts";
import { Header } from "../../functions/_shared/fits/mod.ts";
import { angularSeparationDeg } from "../../functions/_shared/sky/mod.ts";
import {
  fitTanSip,
  type Match,
  pixelScaleArcsec,
  type Wcs,
  wcsFromHeader,
  wcsToCards,
} from "../../functions/_shared/wcs/mod.ts";
import { loadHeaderFixture } from "../fixtures/fits_headers.ts";

const PY = new URL("./py/astropy_wcs.py", import.meta.url).pathname;

async function readF64(path: string): Promise<Float64Array> {
  const b = await Deno.readFile(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function tanOnly(h: Header): Header {
  const out = h.clone();
  for (const k of out.keys()) if (/^(A|B|AP|BP)_/.test(k)) out.delete(k);
  out.set("CTYPE1", "RA---TAN").set("CTYPE2", "DEC--TAN");
  return out;
}

function fittedSip(truth: Wcs): Header {
  let s = 5;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const matches: Match[] = [];
  for (let i = 0; i < 2000; i++) {
    const x = r() * 2047, y = r() * 4095;
    const p = truth.pixToSky(x, y);
    const n = 0.02 / 3600;
    matches.push({
      x,
      y,
      ra: p.ra + (r() - 0.5) * n / Math.cos((p.dec * Math.PI) / 180),
      dec: p.dec + (r() - 0.5) * n,
    });
  }
  const fit = fitTanSip(matches, { order: 3, clip: 3 });
  const h = new Header();
  for (const [k, v, c] of wcsToCards(fit.wcs)) h.set(k, v, c, { float: typeof v === "number" });
  return h;
}

const wcsGroup: FigureGroup = async function* ({ small, progress }) {
  const step = small ? 64 : 4;
  const dir = await Deno.makeTempDir({ prefix: "skydiff_crossval_wcs_" });
  try {
    const sip = loadHeaderFixture("sip_header");
    const headers: Array<[string, Header]> = [
      ["tan", tanOnly(sip)],
      ["sip", sip],
      ["tpv", loadHeaderFixture("decam_tpv_header")],
      ["fitted_sip", fittedSip(wcsFromHeader(sip))],
    ];
    for (const [name, header] of headers) {
      const wcs = wcsFromHeader(header);
      const sub = `${dir}/${name}`;
      await Deno.mkdir(sub);
      await Deno.writeTextFile(`${sub}/header.txt`, header.toString());
      progress(`${name} (${wcs.type}): astropy on a grid every ${step} px`);
      const out = await new Deno.Command("/usr/bin/python3", {
        args: [PY, `${sub}/header.txt`, String(step), sub],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
      const [x, y, ra, dec, px, py] = await Promise.all(
        ["x", "y", "ra", "dec", "px", "py"].map((f) => readF64(`${sub}/${f}.f64`)),
      );
      const sky = wcs.pixToSkyMany(x, y);
      let maxSky = 0;
      for (let i = 0; i < x.length; i++) {
        maxSky = Math.max(
          maxSky,
          angularSeparationDeg(sky.ra[i], sky.dec[i], ra[i], dec[i]) * 3.6e6,
        );
      }
      const pix = wcs.skyToPixMany(ra, dec);
      let maxPix = 0;
      for (let i = 0; i < x.length; i++) {
        maxPix = Math.max(maxPix, Math.hypot(pix.x[i] - px[i], pix.y[i] - py[i]));
      }
      const scaleMas = pixelScaleArcsec(wcs) * 1000;
      yield {
        ...within(`wcs/${name}_pix2sky_max_mas`, maxSky, 1),
        points: x.length,
        type: wcs.type,
      };
      yield { ...within(`wcs/${name}_sky2pix_max_mas`, maxPix * scaleMas, 1), max_pixels: maxPix };
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

export default wcsGroup;
