/*
 * sd_core.h — the only public header of the skydiff imaging core.
 *
 * Rules (see DESIGN.md, "The C core"):
 *  - every exported function is named sd_* and returns an sd_status;
 *  - buffers are owned by the caller; outputs are written through the last parameters;
 *  - no global or static mutable state; memory allocated inside a call is freed on
 *    its single exit path;
 *  - every parameter documents its default in [brackets];
 *  - images are row-major, width (nx) fastest; pixel (0,0) is the centre of the
 *    first pixel, so pixel i covers [i-0.5, i+0.5).
 *
 * Every function declared here is exported from the .wasm: the Makefile builds the
 * export list from this header (so keep one declaration per line start: "sd_status sd_name(").
 */
#ifndef SD_CORE_H
#define SD_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Status codes. 0 is success; everything else names what went wrong. */
typedef int32_t sd_status;
#define SD_OK 0
#define SD_ERR_ARG 1          /* an argument is out of range or inconsistent */
#define SD_ERR_NOMEM 2        /* allocation failed */
#define SD_ERR_EMPTY 3        /* no usable data (all masked, empty list, ...) */
#define SD_ERR_NOCONVERGE 4   /* an iterative fit did not converge */
#define SD_ERR_SINGULAR 5     /* a linear system was singular */
#define SD_ERR_OVERFLOW 6     /* an output buffer was too small */
#define SD_ERR_CORRUPT 7      /* encoded input data is malformed */

/* ---- memory (used by the TypeScript wrapper) ---- */
/* Allocates nbytes; writes the pointer (0 on failure) to *out. */
sd_status sd_alloc(size_t nbytes, void **out);
/* Frees a pointer from sd_alloc (NULL allowed). */
sd_status sd_free(void *ptr);

/* ---- statistics, background, detection, deblending ---- */
/* Masks: a uint16 plane (the FLAGS of an image) or NULL; a pixel is ignored when
 * (mask[i] & mask_bits) != 0. NaN and infinite values are always ignored. */

/* Layout of the out[] array of sd_stats_clipped (float64). */
#define SD_STATS_MEAN 0   /* clipped mean */
#define SD_STATS_MEDIAN 1 /* clipped median */
#define SD_STATS_STD 2    /* clipped standard deviation (population) */
#define SD_STATS_MAD 3    /* median absolute deviation from the median, unscaled */
#define SD_STATS_MODE 4   /* 2.5 median - 1.5 mean if |mean - median| < 0.3 std, else median */
#define SD_STATS_NUSED 5  /* values kept after clipping */
#define SD_STATS_NITER 6  /* clipping iterations done */
#define SD_STATS_N 7

/* Sigma-clipped statistics of n float values: each iteration keeps values within
 * [median - kappa_lo std, median + kappa_hi std] of the previously kept ones, until
 * nothing changes or max_iter iterations. kappa_lo [3], kappa_hi [3], max_iter [5]
 * (0: no clipping). mask may be NULL; mask_bits [0xFFFF]. out: SD_STATS_N doubles.
 * SD_ERR_EMPTY when no value is usable. */
sd_status sd_stats_clipped(const float *data, const uint16_t *mask, int32_t n, uint16_t mask_bits,
                           float kappa_lo, float kappa_hi, int32_t max_iter, double *out);

/* Layout of the out[] array of sd_background_mesh (float64). */
#define SD_BKG_GLOBAL 0     /* median of the filtered mesh backgrounds */
#define SD_BKG_GLOBALRMS 1  /* median of the filtered mesh rms */
#define SD_BKG_NBAD 2       /* meshes with too few usable pixels (replaced by neighbours) */
#define SD_BKG_N 3

/* Background meshes as SExtractor/SEP estimate them: the image is cut into boxes of
 * bw x bh [64 x 64] (nbx = ceil(nx/bw), nby = ceil(ny/bh); the last ones are partial);
 * in each box the usable pixels are clipped at mean +- 2 sigma, then iteratively at
 * median +- 3 sigma, and the background is the mode estimate (2.5 median - 1.5 mean,
 * or the median when skewed), the rms the clipped sigma. Boxes with less than half of
 * their pixels usable take the mean of their nearest good boxes. The mesh is then
 * median filtered over fw x fh [3 x 3] boxes (shrunk at the edges), where the filtered
 * value differs from the raw one by at least fthresh [0]. mask may be NULL; mask_bits
 * [0xFFFF]. mesh_back, mesh_rms: nbx*nby
 * floats, row-major; out: SD_BKG_N doubles. SD_ERR_EMPTY when no box is usable. */
sd_status sd_background_mesh(const float *image, const uint16_t *mask, int32_t nx, int32_t ny,
                             uint16_t mask_bits, int32_t bw, int32_t bh, int32_t fw, int32_t fh,
                             float fthresh, float *mesh_back, float *mesh_rms, double *out);

/* Renders a background mesh (from sd_background_mesh) to full resolution nx x ny with
 * a natural bicubic spline through the box centres ((i + 0.5) bw - 0.5 in pixels),
 * extrapolating the end intervals beyond the outer centres. out: nx*ny floats. */
sd_status sd_background_render(const float *mesh, int32_t nbx, int32_t nby, int32_t bw,
                               int32_t bh, int32_t nx, int32_t ny, float *out);

/* Convolves an image with a small kernel (kw, kh odd, <= 31), kernel centred, pixels
 * outside the image treated as missing (the kernel is renormalised over the pixels
 * inside). norm [1]: 1 divides the kernel by its sum first (SExtractor filters), 0 uses
 * it as given. Masked pixels (mask may be NULL; mask_bits [0xFFFF]) count as missing.
 * out: nx*ny floats. */
sd_status sd_convolve_small(const float *image, const uint16_t *mask, int32_t nx, int32_t ny,
                            uint16_t mask_bits, const float *kernel, int32_t kw, int32_t kh,
                            int32_t norm, float *out);

/* Object flags of sd_detect. */
#define SD_OBJ_BLENDED 1    /* the object was split from a blend by deblending */
#define SD_OBJ_TRUNCATED 2  /* the object touches the image edge */
#define SD_OBJ_SATURATED 4  /* a pixel >= saturate, or flagged with sat_bits */
#define SD_OBJ_MASKED 8     /* a pixel of or next to the object is masked */
#define SD_OBJ_SINGULAR 16  /* second moments were singular (a, b, theta set from a round fit) */

/* Columns of the objects table of sd_detect (float64, row-major, SD_DET_NCOLS per object).
 * Coordinates are pixels, (0, 0) the centre of the first pixel. */
#define SD_DET_NPIX 0   /* pixels above threshold */
#define SD_DET_XMIN 1
#define SD_DET_XMAX 2
#define SD_DET_YMIN 3
#define SD_DET_YMAX 4
#define SD_DET_X 5      /* barycentre weighted by the filtered values (as SExtractor); for a
                         deblended child, of the pixels of its own branch */
#define SD_DET_Y 6
#define SD_DET_X2 7     /* second moments about the barycentre, same weights (pixel^2) */
#define SD_DET_Y2 8
#define SD_DET_XY 9
#define SD_DET_A 10     /* semi-major and semi-minor rms axes (pixels) */
#define SD_DET_B 11
#define SD_DET_THETA 12 /* position angle of a, radians from +x towards +y, in (-pi/2, pi/2] */
#define SD_DET_FLUX 13  /* isophotal flux: sum of the unfiltered pixels above threshold */
#define SD_DET_CFLUX 14 /* same sum on the filtered image */
#define SD_DET_PEAK 15  /* highest unfiltered pixel value */
#define SD_DET_XPEAK 16
#define SD_DET_YPEAK 17
#define SD_DET_CPEAK 18 /* highest filtered pixel value */
#define SD_DET_THRESH 19 /* detection threshold at the peak (filtered-image units) */
#define SD_DET_FLAGS 20 /* SD_OBJ_* bits */
#define SD_DET_PARENT 21 /* index of the first object split from the same blend, or -1 */
#define SD_DET_NCOLS 22

/* Detects objects as SExtractor/SEP do. image: background-subtracted, nx x ny. The
 * image is filtered with kernel (kw x kh [3 x 3, SEP's 1 2 1 / 2 4 2 / 1 2 1], NULL for
 * none, normalised by its sum), then
 * pixels whose filtered value exceeds thresh [1.5] times the noise are grouped into
 * 8-connected objects; noise is the per-pixel rms map (NULL: noise_const [1] everywhere).
 * Objects with fewer than min_area [5] pixels are dropped; the others are deblended with
 * deblend_nthresh [32] (1..256) exponentially spaced sub-thresholds and minimum contrast
 * deblend_cont [0.005] (1 disables deblending). mask/mask_bits [0xFFFF]: masked pixels
 * are never detected. sat_bits [0x0004] and saturate [0 = none] flag saturation.
 * Blended children get the pixels above their branch threshold plus, for the pixels in
 * between, those where their Gaussian model (from their moments) is the highest.
 * Writes up to capacity rows of SD_DET_NCOLS doubles to objects and the count to
 * *count; when there are more objects than capacity, writes the needed count to *count
 * and returns SD_ERR_OVERFLOW (objects is then incomplete). segmap: NULL, or nx*ny int32
 * receiving 1 + the object index (0 for background) when the call succeeds. */
sd_status sd_detect(const float *image, const float *noise, const uint16_t *mask, int32_t nx,
                    int32_t ny, float noise_const, uint16_t mask_bits, uint16_t sat_bits,
                    float saturate, const float *kernel, int32_t kw, int32_t kh, float thresh,
                    int32_t min_area, int32_t deblend_nthresh, float deblend_cont,
                    int32_t capacity, double *objects, int32_t *segmap, int32_t *count);

/* ---- photometry, measurement, PSF, rendering ---- */
/*
 * Conventions of this section:
 *  - img is background-subtracted unless a local annulus background is requested;
 *  - weight is 1/variance per pixel (NULL: no pixel noise term); weight <= 0 masks a pixel;
 *  - flags (NULL allowed) masks a pixel where (flags & mask_bits) != 0;
 *  - option structs hold only doubles, so the wrapper writes them as a Float64Array in
 *    field order; a field set to 0 takes the default noted in [brackets] unless stated;
 *  - spatial polynomials use normalised coordinates u = (x - xc) / xs, v = (y - yc) / ys with
 *    xc = (nx - 1) / 2, xs = nx / 2 (same for y) and terms ordered u^i v^j for j = 0..d,
 *    i = 0..d-j: 1, u, u^2, .., v, u v, .., v^d; (d + 1)(d + 2) / 2 terms.
 */

/* Per-source result flags (bit values; combined with |). */
#define SD_PHOT_TRUNCATED 1    /* the aperture or fit region crosses the image edge */
#define SD_PHOT_MASKED 2       /* masked pixels inside the aperture (flux corrected for area) */
#define SD_PHOT_NOBKG 4        /* local annulus had too few pixels: background set to 0 */
#define SD_PHOT_NOCONVERGE 8   /* windowed centroid or fit did not converge */
#define SD_PHOT_BADSHAPE 16    /* moments undefined (non-positive flux): shape from defaults */
#define SD_PHOT_EMPTY 32       /* no usable pixel: outputs are NaN */

/* Aperture photometry options. */
typedef struct sd_aper_opts {
  double gain;         /* e-/ADU for the Poisson term of the error; 0 = no Poisson term [0] */
  double annulus_in;   /* inner radius (px) of the local-background annulus [0 = no annulus] */
  double annulus_out;  /* outer radius (px); the annulus background is a 3-sigma-clipped median [0] */
  double mask_bits;    /* flag bits that mask a pixel [0 = 0xFFFF, all bits] */
} sd_aper_opts;

/*
 * Circular aperture sums with exact pixel/circle overlap areas, nr radii per source.
 * Outputs are n * nr arrays (source-major: [i * nr + k]); bkg and oflags are per source
 * (n). flux is background-subtracted (local annulus background times aperture area when
 * an annulus is set); masked pixels are left out and the flux scaled by total / unmasked
 * area (SD_PHOT_MASKED). fluxerr^2 = sum(area * var) + flux / gain + area^2 var_bkg / n_ann.
 */
sd_status sd_sum_circle(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                        int32_t ny, const double *x, const double *y, int32_t n, const double *r,
                        int32_t nr, const sd_aper_opts *opts, double *flux, double *fluxerr,
                        double *bkg, int32_t *oflags);

/*
 * Elliptical aperture sums with exact overlap: per source semi-axes a[i] * r, b[i] * r and
 * position angle theta[i] (radians, counter-clockwise from +x). Outputs are per source (n).
 * Same background (the annulus stays circular), masking and error rules as sd_sum_circle.
 */
sd_status sd_sum_ellipse(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                         int32_t ny, const double *x, const double *y, const double *a,
                         const double *b, const double *theta, int32_t n, double r,
                         const sd_aper_opts *opts, double *flux, double *fluxerr, double *bkg,
                         int32_t *oflags);

/* Per-source measurement options. */
typedef struct sd_measure_opts {
  double gain;         /* e-/ADU for Poisson errors; 0 = none [0] */
  double annulus_in;   /* local background annulus inner radius [0 = none, img is bkg-subtracted] */
  double annulus_out;  /* local background annulus outer radius [0] */
  double mask_bits;    /* flag bits that mask a pixel [0 = 0xFFFF] */
  double radius;       /* radius (px) of the region for the peak and moments when no seg map [8] */
  double win_sigma;    /* initial window sigma (px) of the adaptive windowed moments [1.5] */
  double kron_fact;    /* Kron aperture = kron_fact * r_kron [2.5] */
  double kron_min;     /* minimum Kron aperture radius, in units of a and b [3.5] */
  double max_iter;     /* iterations of the windowed centroid [20] */
} sd_measure_opts;

/* Columns of sd_measure's output (n * SD_MEAS_NCOL doubles, source-major). */
#define SD_MEAS_X 0          /* windowed centroid x (XWIN) */
#define SD_MEAS_Y 1          /* windowed centroid y (YWIN) */
#define SD_MEAS_A 2          /* semi-major axis (px, 1-sigma of the adaptive Gaussian moments) */
#define SD_MEAS_B 3          /* semi-minor axis (px) */
#define SD_MEAS_THETA 4      /* position angle (radians, counter-clockwise from +x, in (-pi/2, pi/2]) */
#define SD_MEAS_FWHM 5       /* Gaussian-equivalent FWHM (px) = 2.3548 sqrt(a b); a Moffat reads higher */
#define SD_MEAS_PEAK 6       /* highest background-subtracted pixel in the region */
#define SD_MEAS_FLUX_ISO 7   /* isophotal flux: sum over the source's segment pixels (NaN without seg) */
#define SD_MEAS_FLUXERR_ISO 8
#define SD_MEAS_NPIX_ISO 9   /* number of segment pixels */
#define SD_MEAS_KRON_R 10    /* Kron radius r_kron in units of a, b */
#define SD_MEAS_FLUX_KRON 11 /* flux in the ellipse max(kron_fact r_kron, kron_min) * (a, b) */
#define SD_MEAS_FLUXERR_KRON 12
#define SD_MEAS_BKG 13       /* local background per pixel (0 without annulus) */
#define SD_MEAS_FLAGS 14     /* SD_PHOT_* bits */
#define SD_MEAS_X_MOM 15     /* unweighted first moment x over the region */
#define SD_MEAS_Y_MOM 16     /* unweighted first moment y over the region */
#define SD_MEAS_NCOL 17

/*
 * Measures n sources starting at (x[i], y[i]). seg (NULL allowed) is a label map and
 * ids[i] the label of source i (ids NULL with seg: label i + 1): the isophotal flux, peak
 * and first moments then use that source's segment; otherwise a circle of opts->radius.
 * The windowed centroid and shape are adaptive Gaussian-weighted moments (the window
 * follows the measured covariance; centroid updated as in SExtractor's XWIN).
 */
sd_status sd_measure(const float *img, const float *weight, const uint16_t *flags,
                     const int32_t *seg, int32_t nx, int32_t ny, const double *x, const double *y,
                     const int32_t *ids, int32_t n, const sd_measure_opts *opts, double *out);

/* Star rendering options. */
typedef struct sd_render_opts {
  double profile;      /* 0 = Moffat, 1 = Gaussian [0] */
  double beta;         /* Moffat beta [3.0] */
  double fwhm;         /* FWHM (px) along the major axis, used when no polynomial is given [3.0] */
  double axis_ratio;   /* minor / major axis ratio, in (0, 1] [1] */
  double theta;        /* major-axis angle (radians, counter-clockwise from +x) [0] */
  double radius;       /* truncation radius (px): the rendered flux inside it equals flux [5 * fwhm] */
  double oversample;   /* sub-samples per pixel side near the core [5] */
  double core_radius;  /* pixels with centre within this radius (px) are oversampled [2 * fwhm] */
} sd_render_opts;

/*
 * Adds point sources (x[i], y[i], flux[i]) to img. The profile is integrated over pixels
 * (sub-sampled near the core, one sample at the pixel centre elsewhere) and normalised so
 * the pixels within opts->radius sum to flux (pixels outside the image are dropped).
 * fwhm_poly (NULL: constant opts->fwhm) gives FWHM(x, y) as a polynomial of degree
 * fwhm_degree in normalised coordinates (see the section conventions).
 */
sd_status sd_render_stars(float *img, int32_t nx, int32_t ny, const double *x, const double *y,
                          const double *flux, int32_t n, const sd_render_opts *opts,
                          const double *fwhm_poly, int32_t fwhm_degree);

/* PSF star selection options. */
typedef struct sd_psf_select_opts {
  double snr_min;      /* minimum S/N [20] */
  double fwhm_tol;     /* keep |fwhm / mode - 1| <= fwhm_tol [0.2] */
  double fwhm_min;     /* ignore sources with FWHM below this (px; cosmic rays) [1.0] */
  double saturation;   /* peak at or above this is saturated [0 = no limit] */
  double max_stars;    /* keep at most this many, highest S/N first [0 = all] */
  double isolation;    /* reject a star with a source brighter than isolation_frac x its flux
                          within this radius (px); needs x, y, flux [0 = off] */
  double isolation_frac; /* [0.01] */
} sd_psf_select_opts;

/*
 * Selects PSF stars: S/N >= snr_min, flags == 0 (blended, truncated, saturated and masked
 * sources must carry a flag), peak < saturation, FWHM within fwhm_tol of the mode of the
 * FWHM distribution of the candidates (the stellar locus), and (when opts->isolation > 0 and
 * x, y, flux are given) no source of flux > isolation_frac x flux[i] within opts->isolation px:
 * neighbours in the stamp bias the model's wings. Writes selected[i] = 1 or 0 and
 * the mode to *fwhm_mode; SD_ERR_EMPTY when no source passes.
 */
sd_status sd_psf_select(const double *snr, const double *fwhm, const double *peak,
                        const int32_t *src_flags, const double *x, const double *y,
                        const double *flux, int32_t n, const sd_psf_select_opts *opts,
                        uint8_t *selected, double *fwhm_mode);

/* PSF model fitting options. */
typedef struct sd_psf_fit_opts {
  double size;         /* side of the basis images (grid px, odd) [25]; -1 = 5 * fwhm, odd, >= 11 */
  double oversample;   /* grid pixels per image pixel [1] */
  double degree;       /* degree of the spatial polynomial [2]; -1 = constant (0 takes the default) */
  double fwhm;         /* stellar FWHM (px), used for size = -1 [3] */
  double reject_sigma; /* stars whose residual exceeds median + k * 1.4826 MAD are rejected [4] */
  double iterations;   /* fit / reject cycles [3] */
} sd_psf_fit_opts;

/*
 * PSF model layout (a float array, written to FITS as is):
 *  [0]  SD_PSF_VERSION       [1] size (odd)        [2] oversample      [3] degree
 *  [4]  nterms               [5] xc                [6] xs              [7] yc
 *  [8]  ys                   [9] FWHM at the centre (image px)          [10] stars used
 *  [11] stars given          [12..15] reserved (0)
 *  [16 ..] nterms basis images of size * size, row-major, term order as in the section
 *  conventions; PSF(x, y) on the grid = sum_k term_k(u, v) * basis_k. The grid centre
 *  pixel (size / 2, size / 2) is the star centre; one grid pixel is 1 / oversample image px.
 */
#define SD_PSF_VERSION 1
#define SD_PSF_HEADER 16
/* Number of floats of a model with these parameters. */
sd_status sd_psf_model_length(int32_t size, int32_t degree, int32_t *length);

/*
 * Fits a PSF model from stars at (x[i], y[i]) (centroids, e.g. windowed). Each star is
 * recentred onto the grid by Lanczos-3 interpolation and normalised to unit sum; each basis
 * pixel is a weighted least-squares polynomial fit over the stars (weights 1 / noise of the
 * normalised stamp from the weight map, capped at 10x their median; equal without a weight
 * map). Each cycle re-fits every star's amplitude against the model over its core (2 FWHM),
 * and rejects stars whose residual exceeds median + reject_sigma x max(1.4826 MAD, median / 2).
 * A few forward-model rounds then fit the residual between the stars and the model rendered at
 * them and resampled the same way (undoing the blur of the double interpolation). Stars whose
 * stamp (plus the Lanczos margin) leaves the image or holds a masked pixel (any flags bit,
 * weight <= 0 or non-finite) are not used; the degree is lowered while there are fewer than
 * 2 x nterms stars. model must hold sd_psf_model_length floats; used[i] (NULL allowed) tells
 * which stars were kept.
 * SD_ERR_EMPTY when no star is usable.
 */
sd_status sd_psf_fit(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                     int32_t ny, const double *x, const double *y, int32_t n,
                     const sd_psf_fit_opts *opts, float *model, int32_t model_len,
                     uint8_t *used);

/*
 * Renders the PSF at image position (x, y) on an image-pixel stamp of side `side` (odd)
 * centred on pixel (round(x), round(y)): stamp pixel (i, j) is image pixel
 * (round(x) - side / 2 + i, round(y) - side / 2 + j). Normalised to unit sum.
 */
sd_status sd_psf_render(const float *model, int32_t model_len, double x, double y, int32_t side,
                        float *out);

/* FWHM (image px, geometric mean of the half-maximum contour) of the PSF at (x, y). */
sd_status sd_psf_fwhm(const float *model, int32_t model_len, double x, double y, double *fwhm);

/* PSF photometry options. */
typedef struct sd_psf_phot_opts {
  double fit_radius;   /* pixels with centre within this radius (px) enter the fit [1.5 * FWHM, >= 3] */
  double fit_position; /* 1 = fit x, y too (Gauss-Newton), 0 = fixed position [0] */
  double fit_bkg;      /* 1 = fit a constant local background, -1 = no background [1] */
  double gain;         /* e-/ADU for the Poisson term of the weights; 0 = none [0] */
  double mask_bits;    /* flag bits that mask a pixel [0 = 0xFFFF] */
  double max_iter;     /* Gauss-Newton iterations [20] */
} sd_psf_phot_opts;

/* Columns of sd_psf_phot's output (n * SD_PSFPHOT_NCOL doubles, source-major). */
#define SD_PSFPHOT_FLUX 0
#define SD_PSFPHOT_FLUXERR 1
#define SD_PSFPHOT_BKG 2     /* fitted background per pixel (0 when not fitted) */
#define SD_PSFPHOT_X 3       /* position used (fitted or given) */
#define SD_PSFPHOT_Y 4
#define SD_PSFPHOT_XERR 5    /* NaN when the position is fixed */
#define SD_PSFPHOT_YERR 6
#define SD_PSFPHOT_CHI2 7    /* reduced chi^2 of the fit (weighted) */
#define SD_PSFPHOT_NPIX 8
#define SD_PSFPHOT_FLAGS 9   /* SD_PHOT_* bits */
#define SD_PSFPHOT_NCOL 10

/*
 * PSF photometry: weighted linear least squares of flux (and background) at fixed positions,
 * or Gauss-Newton on x, y, flux (and background). Weights are the weight map (uniform when
 * NULL, errors then scaled by the residual chi^2), with the Poisson term flux * psf / gain.
 */
sd_status sd_psf_phot(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                      int32_t ny, const float *model, int32_t model_len, const double *x,
                      const double *y, int32_t n, const sd_psf_phot_opts *opts, double *out);

/* ---- FFT, convolution, resampling, subtraction ---- */
/* Real 2-D FFT of nx x ny images (row-major), nx and ny products of 2, 3 and 5. A spectrum
 * is two planes of ny x (nx/2 + 1) floats: the real parts, then the imaginary parts
 * (row-major, kx fastest); element (ky, kx) = sum_{y,x} img[y][x] e^{-2 pi i (kx x/nx + ky y/ny)}. */

/* Writes the smallest 2^a 3^b 5^c >= n to *out (n in 1 .. 2^28). */
sd_status sd_fft_good_size(int32_t n, int32_t *out);
/* Floats needed by the plan of an nx x ny transform; SD_ERR_ARG unless both are 2/3/5-smooth. */
sd_status sd_fft_plan_length(int32_t nx, int32_t ny, int32_t *len);
/* Fills a caller-owned plan (len floats, from sd_fft_plan_length): sizes, factors, twiddles. */
sd_status sd_fft_plan(int32_t nx, int32_t ny, float *plan, int32_t len);
/* Forward real-to-complex transform of in (nx*ny floats) to out (2 * ny * (nx/2+1) floats). */
sd_status sd_fft_r2c(const float *plan, const float *in, float *out);
/* Inverse complex-to-real transform of a spectrum (in is not modified), divided by nx*ny,
 * so sd_fft_c2r(sd_fft_r2c(img)) == img. out: nx*ny floats. */
sd_status sd_fft_c2r(const float *plan, const float *in, float *out);

/* Kernels of at most this many taps (and <= 31 x 31) are convolved directly by sd_convolve's
 * automatic choice; larger ones by FFT. */
#define SD_CONVOLVE_DIRECT_MAX 169

/* Convolves image (nx x ny) with kernel (kw x kh, both odd, centred):
 * out(x, y) = sum_{u,v} kernel(u, v) image(x - u, y - v). Outside the image the data are
 * zero (pad 0) or mirrored (pad 1: d c b a | a b c d) [0]; non-finite values count as 0.
 * method [0]: 0 automatic (direct when kw*kh <= SD_CONVOLVE_DIRECT_MAX and both <= 31, else
 * FFT), 1 direct (kw, kh <= 31), 2 FFT (padded to 2/3/5-smooth sizes). out: nx*ny floats. */
sd_status sd_convolve(const float *image, int32_t nx, int32_t ny, const float *kernel, int32_t kw,
                      int32_t kh, int32_t pad, int32_t method, float *out);

/* Flag bit set by resampling on output pixels that map outside the input image. */
#define SD_FLAG_OUT_OF_BOUNDS 8

/* Lanczos-3 resampling of an image (and its inverse-variance weight) onto a new nx x ny pixel
 * grid. The map output pixel -> input pixel is given on a coarse gnx x gny grid (>= 2 x 2):
 * node (i, j) sits at output pixel (i (nx-1)/(gnx-1), j (ny-1)/(gny-1)) and holds the input
 * position (grid_x, grid_y)[j * gnx + i]; between nodes the map is interpolated by
 * Catmull-Rom bicubics (linear extrapolation beyond the outer nodes). Each output value is the
 * 6 x 6 Lanczos-3 sum over usable input pixels (finite, weight > 0 when weight is given),
 * renormalised by the sum of the used taps. The weight is resampled as a variance with the same
 * taps. flags (may be NULL): OR of the flags of the 2 x 2 input pixels around the sample point.
 * Output pixels whose sample point is outside the input ([-0.5, n - 0.5)) or whose used taps sum
 * to less than 0.5 get value 0, weight 0, and SD_FLAG_OUT_OF_BOUNDS (outside) in out_flags.
 * flux_conserve [0]: 1 multiplies values by |det J| of the map (input pixels per output pixel)
 * and divides weights by its square. weight, out_weight, flags, out_flags may be NULL. */
sd_status sd_resample_lanczos3(const float *image, const float *weight, const uint16_t *flags,
                               int32_t nx_in, int32_t ny_in, const double *grid_x,
                               const double *grid_y, int32_t gnx, int32_t gny, int32_t nx,
                               int32_t ny, int32_t flux_conserve, float *out_image,
                               float *out_weight, uint16_t *out_flags);

/* Options of sd_zogy. */
typedef struct sd_zogy_opts {
  double tile;         /* side (px) of the tiles whose centres the PSFs describe [512] */
  double overlap;      /* margin (px) added around each tile for the FFTs; the tile core is kept
                          (centre crop); must exceed the PSF and kernel radii [32] */
  double fn;           /* photometric scaling (flux zero point) F_n of the new image [1] */
  double fr;           /* photometric scaling F_r of the reference [1] */
  double astrom_x;     /* astrometric registration rms (px) along x, for S_corr [0] */
  double astrom_y;     /* astrometric registration rms (px) along y [0] */
} sd_zogy_opts;

/* Tiles of sd_zogy: ntx = ceil(nx / tile), nty = ceil(ny / tile); tile (i, j) covers
 * x in [i tile, min((i+1) tile, nx)), y likewise; index j * ntx + i. */
sd_status sd_zogy_tiles(int32_t nx, int32_t ny, const sd_zogy_opts *opts, int32_t *ntx,
                        int32_t *nty);

/* Columns of sd_zogy's per-tile table (doubles, tile-major). */
#define SD_ZOGY_FD 0      /* flux normalisation F_D of the proper difference */
#define SD_ZOGY_FS 1      /* F_S: S / F_S estimates the flux alpha (new-image flux = alpha F_n) */
#define SD_ZOGY_SIGMA_N 2 /* noise sigma of the new image used in the tile */
#define SD_ZOGY_SIGMA_R 3 /* noise sigma of the reference used in the tile */
#define SD_ZOGY_NCOL 4

/*
 * ZOGY image subtraction (Zackay, Ofek & Gal-Yam 2016) on overlapping tiles. new_img N and
 * ref R: aligned, background-subtracted, nx x ny. var_n, var_r: pixel variance images
 * (including source noise), both or neither (NULL). sigma_n, sigma_r: background noise per tile (ntx*nty),
 * or NULL to take the median of sqrt(var) over the tile (then var must be given).
 * psf_n, psf_r: per tile a ps x ps stamp (ps odd), centred, normalised here to unit sum,
 * evaluated at the tile's centre. opts: sd_zogy_opts (NULL: defaults). Each tile is padded
 * to a 2/3/5-smooth size (tile + 2 overlap); image data outside the image are zero.
 * Outputs (nx*ny floats each; any may be NULL):
 *  d       proper difference D (unit-variance white noise where sigmas are right)
 *  s       proper score S = S_N - S_R (matched filter of D with P_D, times F_D)
 *  scorr   S / sqrt(V_S_N + V_S_R + V_ast): V_S_N = var_n (x) k_n^2 (or sigma_n^2 sum k_n^2),
 *          V_ast = astrom_x^2 ((dS_N/dx)^2 + (dS_R/dx)^2) + astrom_y^2 (y terms)
 *  flux    S / F_S: PSF flux alpha of a point source at each pixel
 *  flux_err sqrt(V_S_N + V_S_R) / F_S
 * pd: ntx*nty stamps of ps x ps (P_D per tile, unit sum) or NULL; table: ntx*nty rows of
 * SD_ZOGY_NCOL doubles or NULL. Per tile: 4 forward FFTs (2 when the PSF stamps equal the
 * previous tile's), 1 inverse for S (2 with an astrometric term), 1 each for D and P_D when
 * asked, and 7 more for V_S with variance images.
 */
sd_status sd_zogy(const float *new_img, const float *ref_img, const float *var_n,
                  const float *var_r, int32_t nx, int32_t ny, const float *sigma_n,
                  const float *sigma_r, const float *psf_n, const float *psf_r, int32_t ps,
                  const sd_zogy_opts *opts, float *d, float *s, float *scorr, float *flux,
                  float *flux_err, float *pd, double *table);

/* Options of the Alard-Lupton functions (the same values must reach sd_al_fit and
 * sd_al_convolve; 0 picks the default, a value in (0, 1) means a literal 0 for the integer
 * fields: degrees, orders, max_iter). */
typedef struct sd_al_opts {
  double sigma;        /* base Gaussian width (px); the basis Gaussians have 0.5, 1, 1.5 x it [1.5] */
  double half_width;   /* kernel half-width (px) (HOTPANTS: 2.5 x FWHM) [ceil(4.5 sigma)] */
  double deg0;         /* polynomial degree times the narrowest Gaussian [6] */
  double deg1;         /* ... the middle one [4] */
  double deg2;         /* ... the widest one [2] (-1: leave that Gaussian out) */
  double spatial_order; /* order of the spatial variation of every kernel coefficient, 0-2 [1]
                           (-1: constant) */
  double bg_order;     /* order of the differential background polynomial, 0-2 [1] (-1: none) */
  double stamp_half;   /* half-side (px) of the fit stamp around each star [half_width + 3] */
  double kappa;        /* stamps whose chi^2 per pixel exceeds median + kappa 1.4826 MAD are
                          dropped and the fit redone [3] */
  double max_iter;     /* clipping rounds [3] */
  double max_stamps;   /* use at most this many stars, in the order given [300] */
} sd_al_opts;

/* Layout of sd_al_fit's info array (doubles). */
#define SD_AL_NUSED 0   /* stamps kept after clipping */
#define SD_AL_NSTAMP 1  /* stamps inside the image */
#define SD_AL_CHI2 2    /* chi^2 per pixel of the kept stamps */
#define SD_AL_KSUM 3    /* kernel sum at the image centre (photometric ratio new / ref) */
#define SD_AL_NINFO 4

/* Number of coefficients of an Alard-Lupton solution: nbasis * nspatial + nbackground. */
sd_status sd_al_coeff_count(const sd_al_opts *opts, int32_t *n);

/*
 * Alard-Lupton kernel fit: finds K (Gaussians times polynomials, each coefficient a
 * polynomial of the position) and a background polynomial B so that
 * new ~ K (x) ref + B, by weighted least squares over stamps of (2 stamp_half + 1)^2 pixels
 * centred on the stars (x, y) (n of them; stamps that do not fit inside the image with the
 * kernel margin are skipped), weights 1 / var_new (NULL: unit; pixels with var <= 0 or
 * non-finite values are ignored). Stamps are sigma-clipped on their chi^2 per pixel. ref
 * should be the image with the narrower PSF. Polynomials are in (x - nx/2) / (nx/2),
 * (y - ny/2) / (ny/2). coeffs: ncoeff doubles (sd_al_coeff_count); info: SD_AL_NINFO
 * doubles. SD_ERR_EMPTY when fewer usable stamps than needed, SD_ERR_SINGULAR when the
 * normal equations are singular.
 */
sd_status sd_al_fit(const float *new_img, const float *ref_img, const float *var_new, int32_t nx,
                    int32_t ny, const double *x, const double *y, int32_t n,
                    const sd_al_opts *opts, double *coeffs, int32_t ncoeff, double *info);

/* The kernel of a solution at image position (x, y): (2 hw + 1)^2 floats, hw = half_width. */
sd_status sd_al_kernel(const sd_al_opts *opts, const double *coeffs, int32_t ncoeff, int32_t nx,
                       int32_t ny, double x, double y, float *kernel);

/* Applies a solution: out = K (x) ref + B (kernel evaluated at the centre of each 64 x 64
 * block; ref outside the image counts as 0). var_ref (may be NULL) gives out_var =
 * K^2 (x) var_ref (may be NULL). out, out_var: nx*ny floats. */
sd_status sd_al_convolve(const float *ref_img, const float *var_ref, int32_t nx, int32_t ny,
                         const sd_al_opts *opts, const double *coeffs, int32_t ncoeff, float *out,
                         float *out_var);

/* Naive subtraction: diff = new - f ref; out_weight = 1 / (1/w_new + f^2 / w_ref) (0 where
 * either weight is 0 or a value is not finite; weights may be NULL = unit weights, out_weight
 * may be NULL). f [1]: flux scaling of the reference onto the new image. */
sd_status sd_subtract_naive(const float *new_img, const float *w_new, const float *ref_img,
                            const float *w_ref, int32_t nx, int32_t ny, float f, float *diff,
                            float *out_weight);

/* ---- compression (Rice) ---- */
/* Rice coding of integer tiles as in the FITS tiled-image convention (ZCMPTYPE 'RICE_1').
 * A tile holds counts[t] values of bytepix bytes (1: unsigned 8-bit, 2: signed 16-bit,
 * 4: signed 32-bit), carried here as int32.
 *
 * Decodes ntiles tiles: tile t is the bytes heap[offsets[t] .. offsets[t] + lengths[t]);
 * its counts[t] values go to out, one tile after the other (out holds sum(counts)).
 * Tiles with lengths[t] == 0 are skipped (their out values are left untouched).
 * heap_len: bytes in heap. bytepix: 1, 2 or 4 [4]. blocksize: values per block [32].
 * Returns SD_ERR_CORRUPT when a tile ends early or lies outside heap. */
sd_status sd_rice_decode_tiles(const uint8_t *heap, size_t heap_len, const uint32_t *offsets,
                               const uint32_t *lengths, const uint32_t *counts, int32_t ntiles,
                               int32_t bytepix, int32_t blocksize, int32_t *out);
/* Encodes ntiles consecutive tiles of values (tile t has counts[t] values) into out
 * (capacity cap bytes), one tile after the other; writes each tile's byte count to
 * lengths[t]. bytepix: 1, 2 or 4 [4] (values are taken modulo 2^(8 bytepix)).
 * blocksize [32]. Returns SD_ERR_OVERFLOW when out is too small. */
sd_status sd_rice_encode_tiles(const int32_t *values, const uint32_t *counts, int32_t ntiles,
                               int32_t bytepix, int32_t blocksize, uint8_t *out, size_t cap,
                               uint32_t *lengths);
/* Restores floating-point tiles quantized as in the FITS tiled-image convention
 * (ZQUANTIZ): tile t has counts[t] integers in values (tiles one after the other) and
 * becomes out[i] = (q - r + 0.5) * scales[t] + zeros[t] with r the convention's dither
 * sequence (method 1 SUBTRACTIVE_DITHER_1, 2 SUBTRACTIVE_DITHER_2 where q = -2147483646
 * gives 0) or q * scales[t] + zeros[t] (method 0, NO_DITHER) [1]. The sequence of
 * tile t (0-based) starts at index (t + dither0 - 1) mod 10000; dither0 is ZDITHER0
 * in 1..10000 [1]. With has_blank [1], q == blank gives NaN (blank: ZBLANK
 * [-2147483647]). Tiles with scales[t] == 0 are skipped (out left untouched). */
sd_status sd_dequantize_tiles(const int32_t *values, const uint32_t *counts, int32_t ntiles,
                              const double *scales, const double *zeros, int32_t method,
                              int32_t dither0, int32_t has_blank, int32_t blank, float *out);
/* The reverse, as fpack -q does: quantizes float tiles (tile t has counts[t] values, tiles
 * one after the other) with scales[t] = noise / qlevel, the noise being 1.4826 x the
 * median |x[i] - x[i+1]| / sqrt(2) of the tile, and zeros[t] = the middle of the tile's
 * range; out = round((x - zero) / scale + r - 0.5) with the dither sequence of
 * sd_dequantize_tiles (method 1 [1], or 2 where exact zeros become -2147483646), or
 * round((x - zero) / scale) (method 0). Non-finite values
 * become -2147483647 (ZBLANK). qlevel [4]; dither0 1..10000 [1]. A tile without noise
 * or with too wide a range gets scales[t] = 0 and its out values are unspecified: the
 * caller stores it losslessly. */
sd_status sd_quantize_tiles(const float *values, const uint32_t *counts, int32_t ntiles,
                            double qlevel, int32_t method, int32_t dither0, int32_t *out,
                            double *scales, double *zeros);

/* ---- simulation ---- */
/* Kernels of the simulated camera (functions/_shared/sim): galaxies, noise and detector
 * effects. Random numbers come from (seed, stream): the same pair always gives the same
 * values on every build. */

/* Columns of sd_sim_galaxies' params (n * SD_SIM_GAL_NCOL doubles, galaxy-major). */
#define SD_SIM_GAL_X 0      /* centre x (px) */
#define SD_SIM_GAL_Y 1      /* centre y (px) */
#define SD_SIM_GAL_FLUX 2   /* total flux of the rendered (truncated, convolved) galaxy */
#define SD_SIM_GAL_N 3      /* Sersic index, 0.2..10 */
#define SD_SIM_GAL_RE 4     /* half-light radius along the major axis (px) */
#define SD_SIM_GAL_Q 5      /* axis ratio b/a in (0, 1] */
#define SD_SIM_GAL_THETA 6  /* major-axis angle (radians, counter-clockwise from +x) */
#define SD_SIM_GAL_FWHM 7   /* FWHM (px) of the Moffat PSF at the galaxy */
#define SD_SIM_GAL_NCOL 8

/* Adds Sersic galaxies convolved with a pixel-integrated Moffat PSF (beta [3]) to img.
 * The profile is cut at sersic_radius [5] half-light radii and the PSF at psf_radius [5]
 * FWHM or where flux * psf < wing_level [0.05] (whichever is smaller); the PSF is sampled
 * as sd_render_stars samples stars, with its FWHM rounded to steps of 0.2% (kernels are
 * cached); each convolved stamp is normalised to sum to its flux (pixels off the image
 * are dropped). */
sd_status sd_sim_galaxies(float *img, int32_t nx, int32_t ny, const double *params, int32_t n,
                          double beta, double psf_radius, double sersic_radius,
                          double wing_level);

/* Replaces every value v of img by a Poisson deviate of mean max(v, 0). */
sd_status sd_sim_poisson(float *img, int32_t n, uint32_t seed, uint32_t stream);

/* Adds Gaussian noise of standard deviation sigma [1] to every value of img. */
sd_status sd_sim_gaussian(float *img, int32_t n, double sigma, uint32_t seed, uint32_t stream);

/* Writes a flat field: poly(u, v) * (1 + pixel_rms N(0, 1)); poly (NULL: 1) is a spatial
 * polynomial of degree [2] in the normalised coordinates of the rendering section;
 * pixel_rms [0.01]. */
sd_status sd_sim_flat(float *flat, int32_t nx, int32_t ny, const double *poly, int32_t degree,
                      double pixel_rms, uint32_t seed, uint32_t stream);

/* img = (img + sky) * flat + dark, in place; flat NULL means 1. */
sd_status sd_sim_expose(float *img, const float *flat, int32_t n, double sky, double dark);

/* Charge above full_well (e-) runs up and down its column, half each way, filling pixels
 * to full well (charge reaching the edge is lost). flags (NULL allowed) gets bit 4 on
 * saturated pixels and bit 32 on pixels filled by a bleed trail. */
sd_status sd_sim_bleed(float *img, int32_t nx, int32_t ny, double full_well, uint16_t *flags);

/* Columns of sd_sim_add_lines' lines (n * SD_SIM_LINE_NCOL doubles). */
#define SD_SIM_LINE_X0 0
#define SD_SIM_LINE_Y0 1
#define SD_SIM_LINE_X1 2
#define SD_SIM_LINE_Y1 3
#define SD_SIM_LINE_FLUX 4   /* charge per pixel of length (a zero-length line deposits it once) */
#define SD_SIM_LINE_SIGMA 5  /* Gaussian width across the line (px), <= 10; 0: a sharp track */
#define SD_SIM_LINE_NCOL 6

/* Adds line segments (cosmic-ray tracks, satellite trails) to img; flags (NULL allowed)
 * gets flag_bits on the pixels touched. */
sd_status sd_sim_add_lines(float *img, int32_t nx, int32_t ny, const double *lines, int32_t n,
                           uint16_t *flags, uint16_t flag_bits);

/* Layout of sd_sim_readout's geom (int32). */
#define SD_SIM_GEOM_SRC_X0 0  /* first column of this amplifier in the electron image */
#define SD_SIM_GEOM_WIDTH 1   /* its number of columns */
#define SD_SIM_GEOM_COL0 2    /* first raw column the amplifier writes (prescan, overscan, data) */
#define SD_SIM_GEOM_COL1 3    /* one past its last raw column */
#define SD_SIM_GEOM_DST_X0 4  /* raw column of its first data column */
#define SD_SIM_GEOM_DST_Y0 5  /* raw row of the first image row */
#define SD_SIM_GEOM_FLIP_X 6  /* 1: data columns are written in reverse order */
#define SD_SIM_GEOM_N 7

/* Reads one amplifier out: every raw pixel in columns [COL0, COL1) and all raw rows gets
 * bias_level + bias_row[y] + bias_col[x] (NULL: 0) + read noise (read_noise e- / gain),
 * plus electrons / gain inside the data box; values are rounded and clipped to
 * [0, adc_max] [65535]. gain in e-/ADU. */
sd_status sd_sim_readout(const float *electrons, int32_t nx, int32_t ny, const int32_t *geom,
                         float *raw, int32_t raw_nx, int32_t raw_ny, const float *bias_row,
                         const float *bias_col, double bias_level, double gain,
                         double read_noise, double adc_max, uint32_t seed, uint32_t stream);

/* ---- calibration frames (overscan, combination) ---- */

/* Layout of one amplifier in sd_overscan_trim's amps (int32, n_amps * SD_OSCAN_NCOL):
 * 0-based half-open boxes in the raw frame; the overscan columns are read on the data's
 * rows. */
#define SD_OSCAN_DATA_X0 0
#define SD_OSCAN_DATA_X1 1
#define SD_OSCAN_DATA_Y0 2
#define SD_OSCAN_DATA_Y1 3
#define SD_OSCAN_BIAS_X0 4   /* overscan columns [BIAS_X0, BIAS_X1) */
#define SD_OSCAN_BIAS_X1 5
#define SD_OSCAN_TRIM_X0 6   /* where the data's first pixel goes in the trimmed image */
#define SD_OSCAN_TRIM_Y0 7
#define SD_OSCAN_FLIP_X 8    /* 1: data columns land in reverse order */
#define SD_OSCAN_FLIP_Y 9
#define SD_OSCAN_NCOL 10

/* Overscan subtraction and trimming: for every amplifier and data row, the overscan level
 * of that row (method 0: median [0], 1: mean) is subtracted, then bias (a trimmed nx x ny
 * image in ADU, NULL: none), the result multiplied by gains[a] (NULL: 1, i.e. ADU) and
 * written to out (nx x ny): out = (raw - overscan - bias) x gain. levels (NULL allowed)
 * gets each amplifier's mean overscan level. */
sd_status sd_overscan_trim(const float *raw, int32_t raw_nx, int32_t raw_ny, const int32_t *amps,
                           const double *gains, const float *bias, int32_t n_amps,
                           int32_t method, float *out, int32_t nx, int32_t ny, double *levels);

/* Per-pixel sigma-clipped mean of n frames of npix pixels (cube frame-major, n <= 1024),
 * each frame first divided by scales[k] (NULL: 1); values beyond kappa [3] x 1.4826 MAD
 * (1.2533 x the mean absolute deviation when the MAD is 0) of the median are rejected,
 * up to max_iter [3] times; non-finite values are ignored.
 * out_err (NULL allowed) gets the standard error of the mean of the kept values, nused
 * (NULL allowed) their number; a pixel with no value gets NaN. */
sd_status sd_combine_clipped(const float *cube, int32_t n, int32_t npix, const float *scales,
                             float kappa, int32_t max_iter, float *out, float *out_err,
                             uint16_t *nused);

/* ---- coaddition ---- */

/* Per-pixel inverse-variance weighted mean of n aligned images of npix pixels with sigma
 * clipping (cube, wcube, fcube frame-major; n <= 1024). Frame k's values are multiplied by
 * scales[k] (NULL: 1) and its weights divided by scales[k]^2 (flux scaling to a common zero
 * point). A value is used when its weight is > 0, both are finite and (flags & flag_mask)
 * is 0 (fcube NULL: no flags). With >= 3 usable values, a value is rejected when
 * |v - c| > kappa [3.5] x sqrt(var), first with c the median and var = 1/w + (frac c)^2,
 * then up to max_iter [3] times with c the weighted mean of the kept values and var the
 * variance of v - c (1/w - 1/W kept, 1/w + 1/W rejected) + (frac c)^2 (rejected values can
 * return); frac [1] allows for PSF and registration differences on bright sources. If
 * every value is rejected, the one nearest the median is kept.
 * out = sum(w v) / sum(w) and out_w = sum(w) over the kept values, out_flags (NULL allowed)
 * 0 and nused (NULL allowed) their number; a pixel with no usable value gets out = 0,
 * out_w = 0 and out_flags = the OR of its flags in every frame. */
sd_status sd_coadd_clipped(const float *cube, const float *wcube, const uint16_t *fcube,
                           int32_t n, int32_t npix, const float *scales, uint16_t flag_mask,
                           float kappa, float frac, int32_t max_iter, float *out, float *out_w,
                           uint16_t *out_flags, uint16_t *nused);

/* ---- stamp measurements ---- */

/* Order of sd_gauss_fit's params and errors (SD_GFIT_NPAR doubles each). */
#define SD_GFIT_AMP 0         /* peak amplitude above the background */
#define SD_GFIT_X 1           /* centre, pixels (0-based, pixel centres at integers) */
#define SD_GFIT_Y 2
#define SD_GFIT_SIGMA_MAJOR 3 /* Gaussian sigma along the major axis, px (>= SIGMA_MINOR) */
#define SD_GFIT_SIGMA_MINOR 4 /* Gaussian sigma along the minor axis, px */
#define SD_GFIT_THETA 5       /* major-axis angle, radians counter-clockwise from +x, (-pi/2, pi/2] */
#define SD_GFIT_BKG 6         /* constant background */
#define SD_GFIT_NPAR 7
/* Layout of sd_gauss_fit's stats (SD_GFIT_NSTAT doubles). */
#define SD_GFIT_CHI2 0      /* sum of weight x residual^2 over the pixels used */
#define SD_GFIT_NDOF 1      /* pixels used - 7 */
#define SD_GFIT_NITER 2     /* Levenberg-Marquardt steps tried */
#define SD_GFIT_CONVERGED 3 /* 1 when the relative chi^2 change fell below 1e-9, else 0 */
#define SD_GFIT_NSTAT 4

/* Weighted 2-D elliptical Gaussian fit to an nx x ny stamp by Levenberg-Marquardt:
 * model = amp exp(-Q/2) + bkg, Q the quadratic form of the rotated widths. Pixels with
 * weight <= 0 (weight NULL: all 1), non-finite values or (flags & flag_mask) != 0 are not
 * used (flags NULL: none). init (NULL: estimated from the stamp: border median, peak, the
 * area above half maximum) holds the starting params in the SD_GFIT_* order. Writes the
 * fitted params, their 1-sigma errors from the inverse normal matrix (errors NULL allowed;
 * NaN when singular; weights taken as inverse variances) and stats (NULL allowed). Returns
 * SD_ERR_EMPTY with fewer than 8 usable pixels; a fit that stops at max_iter [100] without
 * converging is still SD_OK with stats[SD_GFIT_CONVERGED] = 0. */
sd_status sd_gauss_fit(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                       int32_t ny, uint16_t flag_mask, const double *init, int32_t max_iter,
                       double *params, double *errors, double *stats);

#endif /* SD_CORE_H */
