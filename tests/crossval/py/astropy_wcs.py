"""astropy reference for `deno task crossval wcs` (python3-astropy, Debian).

usage: astropy_wcs.py HEADER.txt STEP OUTDIR

HEADER.txt holds FITS card images (80 characters each, no separators, ending
with END). Builds astropy.wcs.WCS from it and, on the grid of 0-based pixel
centres x = 0, STEP, ..., 2047 and y = 0, STEP, ..., 4095 (the last column and
row always included), writes float64 little-endian files to OUTDIR:
  x.f64, y.f64      the grid
  ra.f64, dec.f64   all_pix2world(x, y, 0) (SIP / TPV distortions included)
  px.f64, py.f64    all_world2pix(ra, dec, 0) with tolerance 1e-10 pixel
Prints one JSON object with the number of points and the astropy version.
"""
import json
import sys
import warnings

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def main():
    path, step, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    header = fits.Header.fromstring(open(path).read())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = WCS(header)
    xs = np.unique(np.append(np.arange(0, 2048, step), 2047)).astype(float)
    ys = np.unique(np.append(np.arange(0, 4096, step), 4095)).astype(float)
    gx, gy = np.meshgrid(xs, ys)
    x, y = gx.ravel(), gy.ravel()
    ra, dec = w.all_pix2world(x, y, 0)
    px, py = w.all_world2pix(ra, dec, 0, tolerance=1e-10, maxiter=100)
    for name, a in [("x", x), ("y", y), ("ra", ra), ("dec", dec), ("px", px), ("py", py)]:
        np.ascontiguousarray(a, dtype="<f8").tofile(f"{outdir}/{name}.f64")
    import astropy
    print(json.dumps({"n": int(x.size), "astropy": astropy.__version__}))


if __name__ == "__main__":
    main()
