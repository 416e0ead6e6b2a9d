import assert from "node:assert/strict";
import { Header } from "../fits/header.ts";
import {
  badPixelMask,
  DECam,
  decamCcdnum,
  formatAngle,
  formatSection,
  getInstrument,
  parseAngle,
  parseSection,
  rawToTrimmedOffset,
  sectionsByDistance,
  SimCam,
  twoAmpLayout,
} from "./mod.ts";

Deno.test("parseSection/formatSection: 1-based inclusive <-> 0-based half-open, reversed axes", () => {
  const s = parseSection("[1081:2104,51:4146]");
  assert.deepEqual(s.box, { x0: 1080, x1: 2104, y0: 50, y1: 4146 });
  assert.equal(formatSection(s.box), "[1081:2104,51:4146]");
  const r = parseSection("[2048:1025,1:4096]");
  assert.deepEqual(r, { box: { x0: 1024, x1: 2048, y0: 0, y1: 4096 }, flipX: true, flipY: false });
  assert.equal(formatSection(r.box, true), "[2048:1025,1:4096]");
  assert.throws(() => parseSection("[0:10,1:5]"));
  assert.throws(() => parseSection("1:10,1:5"));
});

Deno.test("parseAngle/formatAngle: sexagesimal hours and degrees round trip", () => {
  assert.equal(parseAngle("10:30:00.00", true), 157.5);
  assert.ok(Math.abs(parseAngle("-05:30:36.0", false) + 5.51) < 1e-12);
  assert.equal(formatAngle(157.5, true), "10:30:00.00");
  assert.equal(formatAngle(-5.51, false), "-05:30:36.0");
  assert.ok(Math.abs(parseAngle(formatAngle(359.99999, true), true) - 359.99999) < 1e-4);
});

Deno.test("DECam: CCDNUM names, layout from real keywords, header translation, colours", () => {
  assert.equal(decamCcdnum("S29"), 1);
  assert.equal(decamCcdnum("N4"), 35);
  assert.equal(decamCcdnum("N31"), 62);
  const decam = new DECam();
  assert.equal(decam.sectionIds().length, 62);
  const ext = Header.from([
    ["NAXIS1", 2160],
    ["NAXIS2", 4146],
    ["EXTNAME", "N4"],
    ["CCDNUM", 35],
    ["DATASECA", "[1081:2104,51:4146]"],
    ["BIASSECA", "[2105:2154,51:4146]"],
    ["CCDSECA", "[1025:2048,1:4096]"],
    ["DATASECB", "[57:1080,51:4146]"],
    ["BIASSECB", "[7:56,51:4146]"],
    ["CCDSECB", "[1:1024,1:4096]"],
    ["GAINA", 4.02],
    ["GAINB", 3.95],
    ["RDNOISEA", 6.1],
    ["RDNOISEB", 5.8],
    ["SATURATA", 44000],
    ["SATURATB", 46000],
  ]);
  const lay = decam.layout(ext);
  assert.equal(lay.id, "N4");
  assert.equal(lay.nx, 2048);
  assert.equal(lay.ny, 4096);
  assert.deepEqual(lay.amps[0].data, { x0: 1080, x1: 2104, y0: 50, y1: 4146 });
  assert.deepEqual(lay.amps[1].bias, { x0: 6, x1: 56, y0: 50, y1: 4146 });
  assert.deepEqual(lay.amps[0].trim, { x0: 1024, x1: 2048, y0: 0, y1: 4096 });
  assert.equal(lay.amps[1].gain, 3.95);
  assert.equal(lay.amps[0].saturation, 44000);
  assert.deepEqual(rawToTrimmedOffset(lay), { dx: 56, dy: 50 });
  assert.equal(
    rawToTrimmedOffset({ ...lay, amps: [lay.amps[0], { ...lay.amps[1], flipX: true }] }),
    null,
  );
  const primary = Header.from([
    ["INSTRUME", "DECam"],
    ["MJD-OBS", 60001.25],
    ["EXPTIME", 90],
    ["FILTER", "r DECam SDSS c0002 6415.0 1480.0"],
    ["RA", "10:00:00.00"],
    ["DEC", "-05:30:00.0"],
    ["AIRMASS", 1.2],
    ["OBJECT", "field A"],
    ["OBSTYPE", "object"],
    ["EXPNUM", 123456],
  ]);
  const info = decam.exposureInfo(primary);
  assert.equal(info.band, "r");
  assert.equal(info.ra, 150);
  assert.equal(info.dec, -5.5);
  assert.equal(info.type, "science");
  assert.equal(info.expnum, 123456);
  assert.equal(decam.band("VR DECam c0007 6300.0 2600.0"), "VR");
  assert.equal(decam.band("foo"), null);
  // a solar-type star (BP-RP 0.82): g - G about 0.4, r - G about 0
  const gsun = decam.gaiaToBand("g", 15, 15.33, 14.51) - 15;
  const rsun = decam.gaiaToBand("r", 15, 15.33, 14.51) - 15;
  assert.ok(gsun > 0.3 && gsun < 0.5, `g - G ${gsun}`);
  assert.ok(Math.abs(rsun) < 0.1, `r - G ${rsun}`);
  assert.equal(decam.badPixels("N30", 2048, 4096).length, 1);
  assert.deepEqual(decam.preprocessingSteps("z"), [
    "overscan",
    "zero",
    "linearity",
    "flat",
    "fringe",
  ]);
  assert.equal(decam.linearity("N4", "A"), null);
  assert.throws(() => decam.layout(Header.from([["EXTNAME", "WCS"]])));
});

Deno.test("SimCam: sections from the centre out; its header cards give back its geometry", () => {
  const cam = new SimCam({ nCcd: 4, ccdNx: 512, ccdNy: 1024 });
  assert.deepEqual(cam.sectionIds(), sectionsByDistance().slice(0, 4));
  assert.deepEqual(cam.sectionIds(), ["S4", "N4", "S10", "S11"]);
  const id = cam.sectionIds()[0];
  const ext = Header.from([
    ["NAXIS1", cam.rawSize.nx],
    ["NAXIS2", cam.rawSize.ny],
    ["EXTNAME", id],
    ...cam.sectionCards(id),
  ]);
  const lay = cam.layout(ext);
  const geo = cam.rawGeometry();
  assert.equal(lay.rawNx, 512 + 112);
  assert.equal(lay.nx, 512);
  assert.equal(lay.ny, 1024);
  for (const [i, g] of geo.entries()) {
    assert.deepEqual(lay.amps[i].data, g.data);
    assert.deepEqual(lay.amps[i].bias, g.bias);
    assert.deepEqual(lay.amps[i].trim, g.trim);
    assert.equal(lay.amps[i].gain, cam.ccd(id).amps[i].gain);
  }
  // DECam's full-size numbers
  const big = new SimCam();
  const a = big.rawGeometry()[0], b = big.rawGeometry()[1];
  assert.equal(formatSection(a.data), "[1081:2104,51:4146]");
  assert.equal(formatSection(a.bias), "[2105:2154,51:4146]");
  assert.equal(formatSection(b.data), "[57:1080,51:4146]");
  assert.equal(formatSection(b.bias), "[7:56,51:4146]");
  // the camera is the same every time; another seed, another camera
  assert.deepEqual(new SimCam().ccd("N4"), big.ccd("N4"));
  assert.notDeepEqual(new SimCam({ seed: 2 }).ccd("N4").amps, big.ccd("N4").amps);
  // bad pixels rasterise where the CCD's defects are
  const c = cam.ccd(id);
  const mask = badPixelMask(cam.badPixels(id, 512, 1024), 512, 1024);
  for (const h of c.hotPixels) assert.equal(mask[h.y * 512 + h.x], 1);
  for (const x of c.badColumns) assert.equal(mask[700 * 512 + x], 1);
  assert.throws(() => cam.ccd("N31"));
  assert.deepEqual(cam.preprocessingSteps("r"), ["overscan", "zero", "flat"]);
  assert.ok(getInstrument("decam") instanceof DECam);
  assert.ok(getInstrument("SimCam") instanceof SimCam);
  assert.throws(() => getInstrument("hsc"));
  assert.ok(twoAmpLayout);
});
