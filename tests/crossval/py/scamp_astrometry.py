"""SCAMP reference for `deno task crossval astrometry`.

usage: scamp_astrometry.py WORKDIR

WORKDIR holds what the TypeScript side wrote:
  image.f32    the calibrated, background-subtracted image (float32, little-endian)
  input.json   {"width", "height", "header": {card: value} (the approximate WCS),
                "refs": [[ra, dec, mag, err_arcsec], ...] (at the image epoch),
                "grid": [[x, y], ...] (0-based pixels), "radius_arcmin", "degree"}

Runs Debian's source-extractor on the image (FITS_LDAC, windowed centroids),
writes the reference stars as a FITS_LDAC reference catalog, runs scamp
(ASTREF_CATALOG FILE, DISTORT_DEGREES as given, POSITION_MAXERR = radius), reads
its .head with astropy.wcs and prints one JSON object: {"ra": [...], "dec": [...]}
(the sky positions of the grid under SCAMP's solution), "n_sources", "scamp_head".
"""
import json
import os
import subprocess
import sys

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def ldac_imhead(header):
    text = header.tostring(endcard=True, padding=False)
    col = fits.Column(name="Field Header Card", format=f"{len(text)}A", array=[text])
    hdu = fits.BinTableHDU.from_columns([col])
    hdu.header["EXTNAME"] = "LDAC_IMHEAD"
    hdu.header["TDIM1"] = f"(80, {len(text) // 80})"
    return hdu


def main():
    work = sys.argv[1]
    with open(os.path.join(work, "input.json")) as f:
        inp = json.load(f)
    w, h = inp["width"], inp["height"]
    data = np.fromfile(os.path.join(work, "image.f32"), dtype="<f4").reshape(h, w)
    header = fits.Header()
    for k, v in inp["header"].items():
        header[k] = v
    header["GAIN"] = 1.0
    header["SATURATE"] = 1e9
    image = os.path.join(work, "image.fits")
    fits.PrimaryHDU(data=data, header=header).writeto(image, overwrite=True)

    params = os.path.join(work, "sex.param")
    with open(params, "w") as f:
        f.write("\n".join([
            "XWIN_IMAGE", "YWIN_IMAGE", "ERRAWIN_IMAGE", "ERRBWIN_IMAGE", "ERRTHETAWIN_IMAGE",
            "X_WORLD", "Y_WORLD", "FLUX_AUTO", "FLUXERR_AUTO", "MAG_AUTO", "MAGERR_AUTO",
            "FLAGS", "FLUX_RADIUS",
        ]) + "\n")
    cat = os.path.join(work, "image.cat")
    subprocess.run([
        "source-extractor", image, "-c", "/usr/share/source-extractor/default.sex",
        "-CATALOG_NAME", cat, "-CATALOG_TYPE", "FITS_LDAC", "-PARAMETERS_NAME", params,
        "-FILTER_NAME", "/usr/share/source-extractor/default.conv",
        "-DETECT_THRESH", "5", "-ANALYSIS_THRESH", "5", "-DETECT_MINAREA", "5",
        "-BACK_TYPE", "MANUAL", "-BACK_VALUE", "0", "-GAIN", "1", "-SATUR_LEVEL", "1e9",
        "-VERBOSE_TYPE", "QUIET", "-CHECKIMAGE_TYPE", "NONE",
    ], check=True, cwd=work)
    with fits.open(cat) as c:
        n_sources = len(c[2].data)

    refs = np.array(inp["refs"], dtype=float).reshape(-1, 4)
    err_deg = refs[:, 3] / 3600.0
    cols = [
        fits.Column(name="X_WORLD", format="1D", unit="deg", array=refs[:, 0]),
        fits.Column(name="Y_WORLD", format="1D", unit="deg", array=refs[:, 1]),
        fits.Column(name="ERRA_WORLD", format="1E", unit="deg", array=err_deg),
        fits.Column(name="ERRB_WORLD", format="1E", unit="deg", array=err_deg),
        fits.Column(name="ERRTHETA_WORLD", format="1E", unit="deg", array=np.zeros(len(refs))),
        fits.Column(name="MAG", format="1E", unit="mag", array=refs[:, 2]),
        fits.Column(name="MAGERR", format="1E", unit="mag", array=np.full(len(refs), 0.01)),
    ]
    objects = fits.BinTableHDU.from_columns(cols)
    objects.header["EXTNAME"] = "LDAC_OBJECTS"
    ref_header = fits.Header()
    ref_header["NAXIS"] = 2
    ref_header["NAXIS1"] = w
    ref_header["NAXIS2"] = h
    ref = os.path.join(work, "ref.cat")
    fits.HDUList([fits.PrimaryHDU(), ldac_imhead(ref_header), objects]).writeto(ref, overwrite=True)

    subprocess.run([
        "scamp", cat, "-ASTREF_CATALOG", "FILE", "-ASTREFCAT_NAME", ref,
        "-ASTREFCENT_KEYS", "X_WORLD,Y_WORLD",
        "-ASTREFERR_KEYS", "ERRA_WORLD,ERRB_WORLD,ERRTHETA_WORLD",
        "-ASTREFMAG_KEY", "MAG", "-ASTREFMAGERR_KEY", "MAGERR",
        "-DISTORT_DEGREES", str(inp["degree"]), "-SOLVE_PHOTOM", "N",
        "-POSITION_MAXERR", str(inp["radius_arcmin"]), "-POSANGLE_MAXERR", "5",
        "-PIXSCALE_MAXERR", "1.05", "-CROSSID_RADIUS", "2",
        "-MOSAIC_TYPE", "UNCHANGED", "-CHECKPLOT_TYPE", "NONE", "-WRITE_XML", "N",
        "-VERBOSE_TYPE", "QUIET",
    ], check=True, cwd=work)
    head_path = os.path.join(work, "image.head")
    with open(head_path) as f:
        head_text = f.read()
    solved = header.copy()
    for line in head_text.splitlines():
        card = fits.Card.fromstring(line.ljust(80))
        if card.keyword in ("", "END", "COMMENT", "HISTORY"):
            continue
        solved[card.keyword] = card.value
    wcs = WCS(solved)
    grid = np.array(inp["grid"], dtype=float).reshape(-1, 2)
    ra, dec = wcs.all_pix2world(grid[:, 0], grid[:, 1], 0)
    print(json.dumps({
        "ra": ra.tolist(),
        "dec": dec.tolist(),
        "n_sources": n_sources,
        "ctype": [solved.get("CTYPE1"), solved.get("CTYPE2")],
    }))


if __name__ == "__main__":
    main()
