/*
 * phot_util.h — private helpers shared by photometry.c, measure.c, psf.c and render.c:
 * pixel masks, exact circle/ellipse-pixel overlap, spatial polynomial terms, clipped
 * median, small dense linear algebra, Lanczos-3 weights. Header-only, all static.
 */
#ifndef SD_PHOT_UTIL_H
#define SD_PHOT_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sd_core.h"

#define PU_PI 3.14159265358979323846

/* Pixel usable: inside the image is the caller's business; here weight and flags. */
static inline int pu_valid(const float *weight, const uint16_t *flags, uint32_t mask, size_t k) {
  if (weight != NULL && !(weight[k] > 0.0f)) return 0;
  if (flags != NULL && (flags[k] & mask) != 0) return 0;
  return 1;
}

/* A position the pixel loops can use: finite and within +-1e7 px (casts to int stay defined). */
static inline int pu_pos_ok(double x, double y) {
  return isfinite(x) && isfinite(y) && fabs(x) < 1e7 && fabs(y) < 1e7;
}

static inline uint32_t pu_mask(double bits) {
  return bits > 0 ? (uint32_t)bits : 0xFFFFu;
}

/* Signed area of circle(origin, r) intersected with triangle (origin, A, B). */
static inline double pu_tri_area(double ax, double ay, double bx, double by, double r2) {
  double dx = bx - ax, dy = by - ay;
  double qa = dx * dx + dy * dy, qb = ax * dx + ay * dy, qc = ax * ax + ay * ay - r2;
  double t[4];
  int nt = 0;
  t[nt++] = 0.0;
  double disc = qb * qb - qa * qc;
  if (qa > 0.0 && disc > 0.0) {
    double sq = sqrt(disc);
    double t1 = (-qb - sq) / qa, t2 = (-qb + sq) / qa;
    if (t1 > 0.0 && t1 < 1.0) t[nt++] = t1;
    if (t2 > 0.0 && t2 < 1.0) t[nt++] = t2;
  }
  t[nt++] = 1.0;
  double area = 0.0;
  for (int k = 0; k + 1 < nt; k++) {
    double px = ax + t[k] * dx, py = ay + t[k] * dy;
    double qx = ax + t[k + 1] * dx, qy = ay + t[k + 1] * dy;
    double tm = 0.5 * (t[k] + t[k + 1]);
    double cr = px * qy - py * qx;
    if (qa * tm * tm + 2.0 * qb * tm + qc <= 0.0) {
      area += 0.5 * cr;
    } else {
      area += 0.5 * r2 * atan2(cr, px * qx + py * qy);
    }
  }
  return area;
}

/*
 * Signed area of the circular sector from E to R (points on the circle of radius r, seen
 * from the origin). For short chords (|ER| < 0.6 r) it is the triangle plus the circular
 * segment r^2 f(s), s = |ER| / 2r, f(s) = asin(s) - s sqrt(1 - s^2) = 2 sum_k C(2k,k) 4^-k
 * s^(2k+3) / (2k+3), summed to 14 terms (relative error < 1e-14 for s < 0.3): no atan2.
 */
static inline double pu_sector(double ex, double ey, double rx, double ry, double r2) {
  double cr = ex * ry - ey * rx, dt = ex * rx + ey * ry;
  double cx = rx - ex, cy = ry - ey;
  double s2 = (cx * cx + cy * cy) / (4.0 * r2);
  if (s2 < 0.09 && dt > 0.0) {
    static const double b[14] = {2.0 / 3.0,           1.0 / 5.0,           3.0 / 28.0,
                                 5.0 / 72.0,          35.0 / 704.0,        63.0 / 1664.0,
                                 231.0 / 7680.0,      429.0 / 17408.0,     6435.0 / 311296.0,
                                 12155.0 / 688128.0,  46189.0 / 3014656.0, 88179.0 / 6553600.0,
                                 676039.0 / 56623104.0, 1300075.0 / 121634816.0};
    double p = b[13];
    for (int k = 12; k >= 0; k--) p = p * s2 + b[k];
    double seg = r2 * s2 * sqrt(s2) * p;
    return 0.5 * cr + (cr >= 0.0 ? seg : -seg);
  }
  return 0.5 * r2 * atan2(cr, dt);
}

/*
 * Area of circle(origin, r) intersected with a convex polygon of np (<= 8) counter-clockwise
 * vertices. When the origin is outside the polygon and a vertex is inside the circle, the
 * walk starts at that vertex and each run of edge pieces outside the circle contributes one
 * sector (one atan2 per run instead of per piece); otherwise it sums pu_tri_area per edge.
 */
static inline double pu_poly_circle_area(const double *px, const double *py, int np, double r) {
  double r2 = r * r;
  int start = -1, origin_inside = 1;
  for (int k = 0; k < np; k++) {
    int m = (k + 1) % np;
    if (px[k] * py[m] - py[k] * px[m] <= 0.0) origin_inside = 0;
    if (start < 0 && px[k] * px[k] + py[k] * py[k] < r2) start = k;
  }
  if (start < 0 || origin_inside) {
    double a = 0.0;
    for (int k = 0; k < np; k++) {
      int m = (k + 1) % np;
      a += pu_tri_area(px[k], py[k], px[m], py[m], r2);
    }
    return a;
  }
  double area = 0.0, ox = 0.0, oy = 0.0;
  int in_run = 0;
  for (int e = 0; e < np; e++) {
    int k = (start + e) % np, m = (k + 1) % np;
    double ax = px[k], ay = py[k], dx = px[m] - ax, dy = py[m] - ay;
    double qa = dx * dx + dy * dy, qb = ax * dx + ay * dy, qc = ax * ax + ay * ay - r2;
    double t[4];
    int nt = 0;
    t[nt++] = 0.0;
    double disc = qb * qb - qa * qc;
    if (qa > 0.0 && disc > 0.0) {
      double sq = sqrt(disc);
      double t1 = (-qb - sq) / qa, t2 = (-qb + sq) / qa;
      if (t1 > 0.0 && t1 < 1.0) t[nt++] = t1;
      if (t2 > 0.0 && t2 < 1.0) t[nt++] = t2;
    }
    t[nt++] = 1.0;
    for (int j = 0; j + 1 < nt; j++) {
      double pax = ax + t[j] * dx, pay = ay + t[j] * dy;
      double tm = 0.5 * (t[j] + t[j + 1]);
      if (qa * tm * tm + 2.0 * qb * tm + qc <= 0.0) {
        if (in_run) {
          area += pu_sector(ox, oy, pax, pay, r2);
          in_run = 0;
        }
        double pbx = ax + t[j + 1] * dx, pby = ay + t[j + 1] * dy;
        area += 0.5 * (pax * pby - pay * pbx);
      } else if (!in_run) {
        in_run = 1;
        ox = pax;
        oy = pay;
      }
    }
  }
  if (in_run) { /* cannot happen when the start vertex is inside; close defensively */
    area += 0.5 * r2 * atan2(ox * py[start] - oy * px[start], ox * px[start] + oy * py[start]);
  }
  return area;
}

/* Exact overlap of the unit pixel centred at (dx, dy) (relative to the circle centre) with a circle. */
static inline double pu_circle_overlap(double dx, double dy, double r) {
  double ax = fabs(dx), ay = fabs(dy);
  double fx = ax + 0.5, fy = ay + 0.5;
  if (fx * fx + fy * fy <= r * r) return 1.0;
  double nx = ax > 0.5 ? ax - 0.5 : 0.0, ny = ay > 0.5 ? ay - 0.5 : 0.0;
  if (nx * nx + ny * ny >= r * r) return 0.0;
  double px[4] = {dx - 0.5, dx + 0.5, dx + 0.5, dx - 0.5};
  double py[4] = {dy - 0.5, dy - 0.5, dy + 0.5, dy + 0.5};
  double a = pu_poly_circle_area(px, py, 4, r);
  return a < 0.0 ? 0.0 : (a > 1.0 ? 1.0 : a);
}

/*
 * Exact overlap of the unit pixel centred at (dx, dy) with the ellipse of semi-axes a, b,
 * angle theta (cos ct, sin st). Maps the pixel into coordinates where the ellipse is the
 * unit circle (a rotation and a scaling, orientation-preserving) and scales the area back.
 */
static inline double pu_ellipse_overlap(double dx, double dy, double a, double b, double ct,
                                        double st) {
  double cx[4] = {dx - 0.5, dx + 0.5, dx + 0.5, dx - 0.5};
  double cy[4] = {dy - 0.5, dy - 0.5, dy + 0.5, dy + 0.5};
  double u[4], v[4];
  int inside = 1;
  for (int k = 0; k < 4; k++) {
    u[k] = (cx[k] * ct + cy[k] * st) / a;
    v[k] = (-cx[k] * st + cy[k] * ct) / b;
    if (u[k] * u[k] + v[k] * v[k] > 1.0) inside = 0;
  }
  if (inside) return 1.0;
  double ax = fabs(dx), ay = fabs(dy);
  double nx = ax > 0.5 ? ax - 0.5 : 0.0, ny = ay > 0.5 ? ay - 0.5 : 0.0;
  if (nx * nx + ny * ny >= a * a) return 0.0;
  double area = pu_poly_circle_area(u, v, 4, 1.0) * a * b;
  return area < 0.0 ? 0.0 : (area > 1.0 ? 1.0 : area);
}

/* Number of terms of a 2-D polynomial of degree d. */
static inline int pu_nterms(int d) { return (d + 1) * (d + 2) / 2; }

/* Terms u^i v^j, j = 0..d, i = 0..d-j, into t (pu_nterms(d) values). */
static inline void pu_terms(int d, double u, double v, double *t) {
  int k = 0;
  double vj = 1.0;
  for (int j = 0; j <= d; j++) {
    double ui = 1.0;
    for (int i = 0; i <= d - j; i++) {
      t[k++] = ui * vj;
      ui *= u;
    }
    vj *= v;
  }
}

/* Quickselect: k-th smallest of a[0..n-1] (reorders a). */
static inline double pu_select(double *a, int n, int k) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    double piv = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < piv) i++;
      while (a[j] > piv) j--;
      if (i <= j) {
        double t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

static inline double pu_median(double *a, int n) {
  if (n <= 0) return NAN;
  double m = pu_select(a, n, n / 2);
  if (n % 2 == 0) {
    double lo = a[0];
    for (int i = 1; i < n / 2; i++) lo = a[i] > lo ? a[i] : lo;
    m = 0.5 * (m + lo);
  }
  return m;
}

/*
 * 3-sigma-clipped median of a[0..n-1] (reorders a; at most 5 rounds); *sigma gets the clipped
 * standard deviation and *nused the number kept.
 */
static inline double pu_clipped_median(double *a, int n, double *sigma, int *nused) {
  double med = NAN, sd = NAN;
  int m = n;
  for (int it = 0; it < 5 && m > 0; it++) {
    med = pu_median(a, m);
    double s2 = 0.0;
    for (int i = 0; i < m; i++) s2 += (a[i] - med) * (a[i] - med);
    sd = m > 1 ? sqrt(s2 / (m - 1)) : 0.0;
    int k = 0;
    for (int i = 0; i < m; i++) {
      if (fabs(a[i] - med) <= 3.0 * sd) a[k++] = a[i];
    }
    if (k == m || k == 0) break;
    m = k;
  }
  *sigma = sd;
  *nused = m;
  return med;
}

/*
 * Local background in the annulus rin <= r < rout (pixel centres) around (x, y): clipped
 * median; buf must hold the annulus pixels (pu_annulus_cap). Returns 0 and sets *ok = 0 when
 * fewer than 5 pixels are usable.
 */
static inline int pu_annulus_cap(double rout) {
  int w = 2 * (int)ceil(rout) + 3;
  return w * w;
}

static inline double pu_annulus_bkg(const float *img, const float *weight, const uint16_t *flags,
                                    uint32_t mask, int nx, int ny, double x, double y, double rin,
                                    double rout, double *buf, double *var_mean, int *ok) {
  int x0 = (int)floor(x - rout), x1 = (int)ceil(x + rout);
  int y0 = (int)floor(y - rout), y1 = (int)ceil(y + rout);
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > nx - 1) x1 = nx - 1;
  if (y1 > ny - 1) y1 = ny - 1;
  int m = 0;
  for (int j = y0; j <= y1; j++) {
    for (int i = x0; i <= x1; i++) {
      double d2 = (i - x) * (i - x) + (j - y) * (j - y);
      if (d2 < rin * rin || d2 >= rout * rout) continue;
      size_t k = (size_t)j * nx + i;
      if (!pu_valid(weight, flags, mask, k)) continue;
      buf[m++] = img[k];
    }
  }
  if (m < 5) {
    *ok = 0;
    *var_mean = 0.0;
    return 0.0;
  }
  double sd;
  int used;
  double med = pu_clipped_median(buf, m, &sd, &used);
  *ok = 1;
  /* variance of a median ~ (pi / 2) sigma^2 / n */
  *var_mean = used > 0 ? 0.5 * PU_PI * sd * sd / used : 0.0;
  return med;
}

/* In-place inverse of a symmetric positive (or general) n x n matrix by Gauss-Jordan with
 * partial pivoting; returns 0 when singular. work must hold 2 n^2 doubles. */
static inline int pu_invert(double *a, int n, double *work) {
  double *m = work;
  int w = 2 * n;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      m[i * w + j] = a[i * n + j];
      m[i * w + n + j] = i == j ? 1.0 : 0.0;
    }
  }
  double scale = 0.0;
  for (int i = 0; i < n * n; i++) scale = fabs(a[i]) > scale ? fabs(a[i]) : scale;
  if (!(scale > 0.0)) return 0;
  for (int c = 0; c < n; c++) {
    int p = c;
    for (int r = c + 1; r < n; r++) {
      if (fabs(m[r * w + c]) > fabs(m[p * w + c])) p = r;
    }
    if (fabs(m[p * w + c]) <= 1e-13 * scale) return 0;
    if (p != c) {
      for (int j = 0; j < w; j++) {
        double t = m[c * w + j];
        m[c * w + j] = m[p * w + j];
        m[p * w + j] = t;
      }
    }
    double inv = 1.0 / m[c * w + c];
    for (int j = 0; j < w; j++) m[c * w + j] *= inv;
    for (int r = 0; r < n; r++) {
      if (r == c) continue;
      double f = m[r * w + c];
      if (f == 0.0) continue;
      for (int j = 0; j < w; j++) m[r * w + j] -= f * m[c * w + j];
    }
  }
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) a[i * n + j] = m[i * w + n + j];
  }
  return 1;
}

/*
 * Lanczos-3 interpolation weights (normalised to unit sum) for position g on an integer grid:
 * taps at base + 0..5 with base = floor(g) - 2; dw (NULL allowed) gets d(weight)/dg.
 * Tap a sits at t = t0 - a with t0 = g - base in [2, 3): sin(pi t) = (-1)^a sin(pi t0) and
 * sin(pi t / 3), cos(pi t / 3) follow from angle addition, so one pair of sin/cos per call.
 */
static inline int pu_lanczos3(double g, double *w, double *dw) {
  static const double c3[6] = {1.0, 0.5, -0.5, -1.0, -0.5, 0.5}; /* cos(pi a / 3) */
  static const double s3[6] = {0.0, 0.86602540378443865, 0.86602540378443865, 0.0,
                               -0.86602540378443865, -0.86602540378443865}; /* sin(pi a / 3) */
  int base = (int)floor(g) - 2;
  double t0 = g - (double)base;
  double s1 = sin(PU_PI * t0), c1 = cos(PU_PI * t0);
  double sa = sin(PU_PI * t0 / 3.0), ca = cos(PU_PI * t0 / 3.0);
  double s = 0.0, ds = 0.0;
  double raw[6], draw[6];
  for (int a = 0; a < 6; a++) {
    double t = t0 - (double)a;
    if (fabs(t) >= 3.0) {
      raw[a] = 0.0;
      draw[a] = 0.0;
    } else if (fabs(t) < 1e-9) {
      raw[a] = 1.0;
      draw[a] = 0.0;
    } else {
      double sgn = (a & 1) ? -1.0 : 1.0;
      double sp = sgn * s1, cp = sgn * c1;                 /* sin(pi t), cos(pi t) */
      double sq = sa * c3[a] - ca * s3[a];                 /* sin(pi t / 3) */
      double cq = ca * c3[a] + sa * s3[a];                 /* cos(pi t / 3) */
      double pt = PU_PI * t, pt3 = pt / 3.0;
      double f1 = sp / pt, f3 = sq / pt3;
      raw[a] = f1 * f3;
      double d1 = (cp - f1) / t, d3 = (cq - f3) / (t / 3.0);
      draw[a] = d1 * f3 + f1 * d3 / 3.0;
    }
    s += raw[a];
    ds += draw[a];
  }
  for (int a = 0; a < 6; a++) {
    w[a] = raw[a] / s;
    if (dw != NULL) dw[a] = (draw[a] * s - raw[a] * ds) / (s * s);
  }
  return base;
}

#endif /* SD_PHOT_UTIL_H */
