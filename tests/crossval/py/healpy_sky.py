"""healpy / astropy reference for `deno task crossval sky` (python3-healpy, python3-astropy).

usage: healpy_sky.py DIR

Reads from DIR (little-endian binaries written by tests/crossval/sky.ts):
  ra.f64, dec.f64            random sky positions (degrees)
  ra2.f64, dec2.f64          second positions for separations and position angles
  pix_<order>.i64            random NESTED pixel indices per order
  cones.json                 [{"order", "ra", "dec", "radius"}] in degrees
  orders.json                the orders
and writes:
  ang2pix_<order>.i64        healpy.ang2pix(2^order, theta, phi, nest=True)
  pix2ang_<order>_ra.f64/_dec.f64  centres from healpy.pix2ang(..., nest=True)
  cone_<k>.i64               healpy.query_disc(..., inclusive=True, nest=True), fact = 4
                             (or the largest power of 2 keeping fact * nside <= 2^29)
  sep.f64, pa.f64            astropy SkyCoord separation and position_angle (degrees)
Prints a JSON object with the versions.
"""
import json
import sys

import healpy as hp
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord


def f64(path):
    return np.fromfile(path, dtype="<f8")


def main():
    d = sys.argv[1]
    ra, dec = f64(f"{d}/ra.f64"), f64(f"{d}/dec.f64")
    theta, phi = np.radians(90.0 - dec), np.radians(ra)
    orders = json.load(open(f"{d}/orders.json"))
    for o in orders:
        nside = 2**o
        hp.ang2pix(nside, theta, phi, nest=True).astype("<i8").tofile(f"{d}/ang2pix_{o}.i64")
        pix = np.fromfile(f"{d}/pix_{o}.i64", dtype="<i8")
        t, p = hp.pix2ang(nside, pix, nest=True)
        np.degrees(p).astype("<f8").tofile(f"{d}/pix2ang_{o}_ra.f64")
        (90.0 - np.degrees(t)).astype("<f8").tofile(f"{d}/pix2ang_{o}_dec.f64")
    cones = json.load(open(f"{d}/cones.json"))
    for k, c in enumerate(cones):
        nside = 2 ** c["order"]
        fact = 4
        while fact > 1 and fact * nside > 2**29:
            fact //= 2
        vec = hp.ang2vec(np.radians(90.0 - c["dec"]), np.radians(c["ra"]))
        px = hp.query_disc(nside, vec, np.radians(c["radius"]), inclusive=True, nest=True, fact=fact)
        np.asarray(px, dtype="<i8").tofile(f"{d}/cone_{k}.i64")
    a = SkyCoord(ra * u.deg, dec * u.deg)
    b = SkyCoord(f64(f"{d}/ra2.f64") * u.deg, f64(f"{d}/dec2.f64") * u.deg)
    a.separation(b).deg.astype("<f8").tofile(f"{d}/sep.f64")
    a.position_angle(b).deg.astype("<f8").tofile(f"{d}/pa.f64")
    import astropy
    print(json.dumps({"healpy": hp.__version__, "astropy": astropy.__version__}))


if __name__ == "__main__":
    main()
