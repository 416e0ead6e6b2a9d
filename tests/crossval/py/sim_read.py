"""Reads a simulated raw exposure (plain or fpack'ed) with astropy and prints, per
image HDU, what tests/crossval/sim.ts compares with skydiff's reader: EXTNAME, shape,
the MD5 of the pixels as little-endian uint16, their sum, and selected header values;
then maps the truth table's (RA, DEC) to raw-frame pixels (0-based) with astropy.wcs
(TPV) for every CCD.

usage: sim_read.py RAW.fits TRUTH.fits KEY [KEY ...]   (JSON on stdout)
"""
import hashlib
import json
import sys

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def value(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    return str(v)


def main():
    raw_path, truth_path, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = {"hdus": [], "wcs": {}}
    with fits.open(raw_path) as raw:
        primary = raw[0].header
        out["primary"] = {k: value(primary[k]) for k in keys if k in primary}
        for hdu in raw[1:]:
            if hdu.data is None or hdu.header.get("EXTNAME", "") == "":
                continue
            data = np.ascontiguousarray(hdu.data.astype("<u2"))
            h = hdu.header
            out["hdus"].append({
                "extname": h["EXTNAME"],
                "shape": list(data.shape),
                "md5": hashlib.md5(data.tobytes()).hexdigest(),
                "sum": float(data.astype(np.float64).sum()),
                "header": {k: value(h[k]) for k in keys if k in h},
            })
            wcs = WCS(h)
            with fits.open(truth_path) as truth:
                t = truth["TRUTH_" + h["EXTNAME"]].data
                x, y = wcs.all_world2pix(t["RA"], t["DEC"], 0, tolerance=1e-10, maxiter=100)
                out["wcs"][h["EXTNAME"]] = {"x": x.tolist(), "y": y.tolist()}
    json.dump(out, sys.stdout)


main()
