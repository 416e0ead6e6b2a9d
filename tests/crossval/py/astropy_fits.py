"""astropy reference for `deno task crossval fits` (python3-astropy, Debian).

usage:
  astropy_fits.py dump IN.fits OUTDIR
      Reads IN.fits with astropy.io.fits and writes, for every HDU i, its data
      as astropy returns it (after BSCALE/BZERO, TSCAL/TZERO) to OUTDIR: images to
      hdu{i}.bin (little-endian), numeric table columns to hdu{i}_col{j}.bin.
      Prints one JSON object: per HDU the header value cards [key, value], the
      COMMENT and HISTORY texts, the image dtype and shape, or per column its
      name, dtype, shape and (for strings and logicals) the values.
  astropy_fits.py make OUT.fits WIDTH HEIGHT SEED
      Writes a multi-extension file with astropy: a float32 primary image, int16
      with BSCALE/BZERO and BLANK, uint16, int8, uint8, int32, float64 images, and a
      binary table (D, E, J, I, K, A, L, 2-D array with TDIM, uint16, TNULL,
      TSCAL/TZERO columns), with CONTINUE, HIERARCH, COMMENT and HISTORY cards.
"""
import json
import sys

import numpy as np
from astropy.io import fits


def jsonable(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if v is None or isinstance(v, fits.card.Undefined):
        return None
    return str(v)


def header_json(h):
    cards = []
    comments = []
    history = []
    for card in h.cards:
        key = card.keyword
        if key == "COMMENT":
            comments.append(str(card.value))
        elif key == "HISTORY":
            history.append(str(card.value))
        elif key == "":
            continue
        else:
            cards.append([key, jsonable(card.value)])
    return {"cards": cards, "comments": comments, "history": history}


def dump(path, outdir):
    out = []
    with fits.open(path, disable_image_compression=False) as hdul:
        for i, hdu in enumerate(hdul):
            entry = {"index": i, "header": header_json(hdu.header), "kind": type(hdu).__name__}
            data = hdu.data
            if isinstance(hdu, fits.BinTableHDU) and not isinstance(hdu, fits.CompImageHDU):
                cols = []
                for j, col in enumerate(hdu.columns):
                    arr = data[col.name]
                    c = {"name": col.name, "format": str(col.format), "dtype": arr.dtype.str, "shape": list(arr.shape)}
                    if arr.dtype.kind in "SU":
                        c["values"] = [str(s) for s in arr]
                    elif arr.dtype.kind == "b":
                        c["values"] = [bool(b) for b in np.asarray(arr).ravel()]
                    else:
                        a = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
                        a.tofile(f"{outdir}/hdu{i}_col{j}.bin")
                        c["file"] = f"hdu{i}_col{j}.bin"
                    cols.append(c)
                entry["columns"] = cols
            elif data is not None:
                a = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
                a.tofile(f"{outdir}/hdu{i}.bin")
                entry["dtype"] = data.dtype.str
                entry["shape"] = list(data.shape)
                entry["file"] = f"hdu{i}.bin"
            out.append(entry)
    print(json.dumps({"astropy": __import__("astropy").__version__, "hdus": out}))


def make(path, w, h, seed):
    rng = np.random.default_rng(seed)
    prim = fits.PrimaryHDU(rng.normal(100, 5, (h, w)).astype(np.float32))
    ph = prim.header
    ph["OBJECT"] = ("field 7 'east'", "with a quote")
    ph["EXPTIME"] = (90.0, "[s]")
    ph["AIRMASS"] = 1.23456789012345
    ph["NIGHT"] = 20240102
    ph["PHOTOM"] = False
    ph["LONGSTR"] = "a long string value that will certainly not fit on one card image, " * 3
    ph["HIERARCH ESO DET CHIP NAME"] = "CCD-44"
    ph["HIERARCH ESO TEL AIRM START"] = 1.125
    ph.add_comment("a comment written by astropy")
    ph.add_history("history line one")
    ph.add_history("history line two")
    hdus = [prim]
    raw16 = rng.integers(-3000, 3000, (h, w)).astype(np.int16)
    raw16[0, :5] = -32768
    # raw stored values with BSCALE/BZERO/BLANK keywords (astropy scales them on read)
    sh = fits.Header()
    sh["BLANK"] = -32768
    sh.add_comment("PLACEHOLDER_BSCALE")
    sh.add_comment("PLACEHOLDER_BZERO")
    scaled = fits.ImageHDU(data=raw16, header=sh, name="SCALED16", do_not_scale_image_data=True)
    hdus.append(scaled)
    hdus.append(fits.ImageHDU(rng.integers(0, 65536, (h, w)).astype(np.uint16), name="U16"))
    hdus.append(fits.ImageHDU(rng.integers(-128, 128, (h, w)).astype(np.int8), name="I8"))
    hdus.append(fits.ImageHDU(rng.integers(0, 256, (h, w)).astype(np.uint8), name="U8"))
    hdus.append(fits.ImageHDU(rng.integers(-2**31, 2**31, (h, w)).astype(np.int32), name="I32"))
    hdus.append(fits.ImageHDU(rng.normal(0, 1e-3, (h, w)).astype(np.float64), name="F64"))
    n = 50
    cols = [
        fits.Column(name="RA", format="D", unit="deg", array=rng.uniform(0, 360, n)),
        fits.Column(name="MAG", format="E", array=rng.uniform(15, 25, n).astype(np.float32)),
        fits.Column(name="ID", format="K", array=np.arange(n, dtype=np.int64) * 10**12),
        fits.Column(name="NPIX", format="J", null=-1, array=np.where(np.arange(n) % 7 == 0, -1, np.arange(n))),
        fits.Column(name="FLAGS", format="I", array=(np.arange(n) % 5).astype(np.int16)),
        fits.Column(name="NAME", format="12A", array=np.array([f"src{i:04d}" for i in range(n)])),
        fits.Column(name="GOOD", format="L", array=np.arange(n) % 3 == 0),
        fits.Column(name="STAMP", format="6E", dim="(3,2)", array=rng.normal(0, 1, (n, 2, 3)).astype(np.float32)),
        fits.Column(name="U16", format="I", bzero=32768, array=np.arange(n, dtype=np.uint16) * 1000),
        fits.Column(name="SCALED", format="J", array=np.arange(n, dtype=np.int32) * 500 - 7000),
    ]
    tab = fits.BinTableHDU.from_columns(cols, name="CAT")
    # astropy cannot write TSCAL/TZERO integer columns here (a numpy casting error) and
    # drops BSCALE/BZERO given with raw data, so those cards are patched into the
    # written headers in place of placeholder COMMENT cards
    tab.header.add_comment("PLACEHOLDER_TSCAL")
    tab.header.add_comment("PLACEHOLDER_TZERO")
    hdus.append(tab)
    fits.HDUList(hdus).writeto(path, overwrite=True)
    raw = open(path, "rb").read()
    for ph, card in [("PLACEHOLDER_BSCALE", "BSCALE  =                  0.5"), ("PLACEHOLDER_BZERO", "BZERO   =               1000.0"), ("PLACEHOLDER_TSCAL", "TSCAL10 =                0.001"), ("PLACEHOLDER_TZERO", "TZERO10 =                  5.0")]:
        old = ("COMMENT " + ph).ljust(80).encode()
        assert raw.count(old) == 1
        raw = raw.replace(old, card.ljust(80).encode())
    open(path, "wb").write(raw)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "dump":
        dump(sys.argv[2], sys.argv[3])
    elif cmd == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown command {cmd}")
