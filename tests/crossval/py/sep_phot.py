"""SEP reference for tests/crossval/core_phot.ts: aperture sums and windowed positions.

usage: sep_phot.py IMAGE.f32 WIDTH HEIGHT SIGMA SOURCES.json OUT.json

IMAGE.f32 is a raw little-endian float32 image (row-major, width fastest). SOURCES.json holds
{"x": [...], "y": [...], "radii": [...], "a": [...], "b": [...], "theta": [...], "r_ell": r,
 "win_sig": [...], "kron"?: {"x", "y", "a", "b", "theta"}}. Writes {"sum_circle": [[flux per source] per radius],
 "sum_circle_err": [...], "sum_ellipse": [...], "xwin": [...], "ywin": [...],
 "kron_radius": [...], "kron_flux": [...] (ellipse max(2.5 kron_radius, 3.5) (a, b)),
 "seconds_circle": t}.
Everything uses SEP's exact overlap (subpix=0) and a constant per-pixel error SIGMA.
"""
import json
import sys
import time

import numpy as np
import sep


def main() -> None:
    path, width, height, sigma, src_path, out_path = sys.argv[1:7]
    width, height, sigma = int(width), int(height), float(sigma)
    data = np.fromfile(path, dtype="<f4").reshape(height, width).astype(np.float32)
    with open(src_path) as f:
        src = json.load(f)
    x = np.asarray(src["x"], dtype=np.float64)
    y = np.asarray(src["y"], dtype=np.float64)
    t0 = time.perf_counter()
    circ, circ_err = [], []
    for r in src["radii"]:
        flux, err, _flag = sep.sum_circle(data, x, y, r, err=sigma, subpix=0)
        circ.append(flux.tolist())
        circ_err.append(err.tolist())
    t_circ = time.perf_counter() - t0
    a = np.asarray(src["a"], dtype=np.float64)
    b = np.asarray(src["b"], dtype=np.float64)
    theta = np.asarray(src["theta"], dtype=np.float64)
    ell, _e, _f = sep.sum_ellipse(data, x, y, a, b, theta, src["r_ell"], subpix=0)
    sig = np.asarray(src["win_sig"], dtype=np.float64)
    xw, yw, _wf = sep.winpos(data, x, y, sig)
    kron_r, kron_flux = [], []
    if "kron" in src:
        k = src["kron"]
        kx, ky = np.asarray(k["x"], dtype=np.float64), np.asarray(k["y"], dtype=np.float64)
        ka, kb = np.asarray(k["a"], dtype=np.float64), np.asarray(k["b"], dtype=np.float64)
        kt = np.asarray(k["theta"], dtype=np.float64)
        kr, _kf = sep.kron_radius(data, kx, ky, ka, kb, kt, 6.0)
        rk = np.maximum(2.5 * kr, 3.5)
        kfl, _ke, _kff = sep.sum_ellipse(data, kx, ky, ka, kb, kt, rk, subpix=0)
        kron_r, kron_flux = kr.tolist(), kfl.tolist()
    json.dump(
        {
            "sum_circle": circ,
            "sum_circle_err": circ_err,
            "sum_ellipse": ell.tolist(),
            "xwin": xw.tolist(),
            "ywin": yw.tolist(),
            "kron_radius": kron_r,
            "kron_flux": kron_flux,
            "seconds_circle": t_circ,
            "version": sep.__version__,
        },
        open(out_path, "w"),
    )


if __name__ == "__main__":
    main()
