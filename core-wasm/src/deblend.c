/* deblend.c — SExtractor-style multi-threshold deblending of one detected object. */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"
#include "sd_detect_internal.h"

struct sd_node {
  int32_t level;  /* threshold level, -1 for a component dropped by min_area */
  int32_t parent; /* node at the level below */
  int32_t npix;
  float thresh;   /* threshold of its level */
  double flux;    /* sum of filtered values of its pixels */
  int8_t ok;      /* no descendant was split */
  int8_t out;     /* becomes a child object */
};

void sd_deblend_work_free(sd_deblend_work *w) {
  free(w->submap);
  free(w->node_of);
  free(w->uf);
  free(w->root_node);
  free(w->nodes);
  memset(w, 0, sizeof(*w));
}

static int grow(void **p, size_t *cap, size_t need, size_t elsize) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elsize);
  if (q == NULL) return 0;
  *p = q;
  *cap = c;
  return 1;
}

static int32_t uf_find(int32_t *uf, int32_t p) {
  while (uf[p] != p) {
    uf[p] = uf[uf[p]];
    p = uf[p];
  }
  return p;
}

static void uf_union(int32_t *uf, int32_t a, int32_t b) {
  a = uf_find(uf, a);
  b = uf_find(uf, b);
  if (a < b) {
    uf[b] = a;
  } else if (b < a) {
    uf[a] = b;
  }
}

static int32_t new_node(sd_deblend_work *w, int32_t *count) {
  if (!grow((void **)&w->nodes, &w->node_cap, (size_t)*count + 1, sizeof(struct sd_node)))
    return -1;
  struct sd_node *nd = &w->nodes[*count];
  memset(nd, 0, sizeof(*nd));
  return (*count)++;
}

sd_status sd_deblend_object(const float *cimg, int32_t nx, const int32_t *idx, int32_t n,
                            int32_t xmin, int32_t xmax, int32_t ymin, int32_t ymax, float t0,
                            int32_t nthresh, float cont, int32_t min_area, sd_deblend_work *w,
                            int32_t *owner, uint8_t *core, int32_t *nchild) {
  *nchild = 1;
  for (int32_t p = 0; p < n; p++) {
    owner[p] = 0;
    core[p] = 1;
  }
  float peak = -INFINITY;
  double total = 0.0;
  for (int32_t p = 0; p < n; p++) {
    float v = cimg[idx[p]];
    total += v;
    if (v > peak) peak = v;
  }
  if (nthresh < 2 || !(cont < 1.0f) || n < 2 * min_area || !(peak > t0) || !(t0 > 0.0f))
    return SD_OK;

  const int32_t bw = xmax - xmin + 1, bh = ymax - ymin + 1;
  size_t pix_cap = w->pix_cap;
  if (!grow((void **)&w->submap, &w->submap_cap, (size_t)bw * bh, sizeof(int32_t)) ||
      !grow((void **)&w->uf, &pix_cap, (size_t)n, sizeof(int32_t)))
    return SD_ERR_NOMEM;
  if (pix_cap != w->pix_cap) {
    void *a = realloc(w->root_node, pix_cap * sizeof(int32_t));
    if (a == NULL) return SD_ERR_NOMEM;
    w->root_node = a;
    void *b = realloc(w->node_of, pix_cap * (size_t)nthresh * sizeof(int32_t));
    if (b == NULL) return SD_ERR_NOMEM;
    w->node_of = b;
    w->pix_cap = pix_cap;
  } else if (w->node_of == NULL) {
    return SD_ERR_NOMEM;
  }
  /* node_of is sized pix_cap * nthresh; nthresh may differ between calls only by caller error */
  int32_t *submap = w->submap, *uf = w->uf, *root_node = w->root_node, *node_of = w->node_of;
  for (size_t i = 0; i < (size_t)bw * bh; i++) submap[i] = -1;
  for (int32_t p = 0; p < n; p++) {
    int32_t x = idx[p] % nx, y = idx[p] / nx;
    submap[(size_t)(y - ymin) * bw + (x - xmin)] = p;
  }

  int32_t nnodes = 0;
  int32_t root = new_node(w, &nnodes);
  if (root < 0) return SD_ERR_NOMEM;
  w->nodes[root] = (struct sd_node){0, -1, n, t0, total, 1, 0};
  for (int32_t p = 0; p < n; p++) node_of[p] = root;
  int32_t level_start[257];
  int32_t nlev = nthresh > 256 ? 256 : nthresh;
  level_start[0] = 0;
  level_start[1] = 1;
  const double ratio = (double)peak / t0;
  int32_t levels = 1;

  for (int32_t k = 1; k < nlev; k++) {
    const float tk = (float)(t0 * pow(ratio, (double)k / nthresh));
    const int32_t *prev = node_of + (size_t)(k - 1) * n;
    int32_t *cur = node_of + (size_t)k * n;
    int32_t active = 0;
    for (int32_t p = 0; p < n; p++) {
      int on = prev[p] >= 0 && cimg[idx[p]] > tk;
      uf[p] = on ? p : -1;
      root_node[p] = -1;
      active += on;
    }
    if (active < min_area) break;
    for (int32_t p = 0; p < n; p++) {
      if (uf[p] < 0) continue;
      const int32_t x = idx[p] % nx - xmin, y = idx[p] / nx - ymin;
      const int32_t nb[4][2] = {{x - 1, y}, {x - 1, y - 1}, {x, y - 1}, {x + 1, y - 1}};
      for (int j = 0; j < 4; j++) {
        const int32_t qx = nb[j][0], qy = nb[j][1];
        if (qx < 0 || qy < 0 || qx >= bw) continue;
        const int32_t q = submap[(size_t)qy * bw + qx];
        if (q >= 0 && uf[q] >= 0) uf_union(uf, p, q);
      }
    }
    const int32_t first = nnodes;
    for (int32_t p = 0; p < n; p++) {
      if (uf[p] < 0) {
        cur[p] = -1;
        continue;
      }
      const int32_t r = uf_find(uf, p);
      if (root_node[r] < 0) {
        int32_t id = new_node(w, &nnodes);
        if (id < 0) return SD_ERR_NOMEM;
        w->nodes[id] = (struct sd_node){k, prev[p], 0, tk, 0.0, 1, 0};
        root_node[r] = id;
      }
      struct sd_node *nd = &w->nodes[root_node[r]];
      nd->npix++;
      nd->flux += cimg[idx[p]];
      cur[p] = root_node[r];
    }
    int32_t live = 0;
    for (int32_t id = first; id < nnodes; id++) {
      if (w->nodes[id].npix < min_area) {
        w->nodes[id].level = -1;
      } else {
        live++;
      }
    }
    for (int32_t p = 0; p < n; p++)
      if (cur[p] >= 0 && w->nodes[cur[p]].level < 0) cur[p] = -1;
    level_start[k + 1] = nnodes;
    if (live == 0) break;
    levels = k + 1;
  }

  /* cut the branches top-down: a node splits when two or more sons are significant */
  const double value0 = total * cont;
  struct sd_node *nodes = w->nodes;
  for (int32_t k = levels - 2; k >= 0; k--) {
    for (int32_t i = level_start[k]; i < level_start[k + 1]; i++) {
      if (nodes[i].level < 0) continue;
      int32_t m = 0;
      for (int32_t j = level_start[k + 1]; j < level_start[k + 2]; j++) {
        if (nodes[j].level < 0 || nodes[j].parent != i) continue;
        if (nodes[j].flux - (double)nodes[j].thresh * nodes[j].npix > value0) m++;
        nodes[i].ok &= nodes[j].ok;
      }
      if (m > 1) {
        for (int32_t j = level_start[k + 1]; j < level_start[k + 2]; j++) {
          if (nodes[j].level < 0 || nodes[j].parent != i) continue;
          if (nodes[j].ok && nodes[j].flux - (double)nodes[j].thresh * nodes[j].npix > value0)
            nodes[j].out = 1;
        }
        nodes[i].ok = 0;
      }
    }
  }
  if (nodes[root].ok) return SD_OK;

  /* children: the pixels of the output nodes */
  for (int32_t p = 0; p < n; p++) owner[p] = -1;
  int32_t nc = 0;
  for (int32_t id = 0; id < nnodes; id++) {
    if (!nodes[id].out) continue;
    const int32_t *lv = node_of + (size_t)nodes[id].level * n;
    for (int32_t p = 0; p < n; p++)
      if (lv[p] == id) owner[p] = nc;
    nc++;
  }
  if (nc < 2) { /* cannot happen when the root is not ok; keep the object whole */
    for (int32_t p = 0; p < n; p++) owner[p] = 0;
    return SD_OK;
  }
  for (int32_t p = 0; p < n; p++) core[p] = owner[p] >= 0;

  /* the remaining pixels go to the child whose Gaussian model is highest there */
  double *mom = calloc((size_t)nc * 12, sizeof(double));
  if (mom == NULL) return SD_ERR_NOMEM;
  /* mom[c*12 + ..]: 0 sw, 1 sx, 2 sy, 3 sxx, 4 syy, 5 sxy, 6 npix, 7 cpeak, 8 thresh,
   * then 9 cxx, 10 cyy, 11 cxy; amplitude kept in 6 after the pass */
  for (int32_t c = 0; c < nc; c++) mom[c * 12 + 7] = -INFINITY;
  for (int32_t id = 0, c = 0; id < nnodes; id++)
    if (nodes[id].out) mom[(c++) * 12 + 8] = nodes[id].thresh;
  for (int32_t p = 0; p < n; p++) {
    if (owner[p] < 0) continue;
    double *m = mom + owner[p] * 12;
    const double v = cimg[idx[p]], x = idx[p] % nx - xmin, y = idx[p] / nx - ymin;
    m[0] += v;
    m[1] += v * x;
    m[2] += v * y;
    m[3] += v * x * x;
    m[4] += v * y * y;
    m[5] += v * x * y;
    m[6] += 1;
    if (v > m[7]) m[7] = v;
  }
  for (int32_t c = 0; c < nc; c++) {
    double *m = mom + c * 12;
    const double mx = m[1] / m[0], my = m[2] / m[0];
    double x2 = m[3] / m[0] - mx * mx, y2 = m[4] / m[0] - my * my, xy = m[5] / m[0] - mx * my;
    double det = x2 * y2 - xy * xy;
    if (det < 0.00694) {
      x2 += 0.0833333;
      y2 += 0.0833333;
      det = x2 * y2 - xy * xy;
    }
    const double t = sqrt(0.25 * (x2 - y2) * (x2 - y2) + xy * xy);
    const double a = sqrt(fmax(0.5 * (x2 + y2) + t, 1e-6));
    const double b = sqrt(fmax(0.5 * (x2 + y2) - t, 1e-6));
    const double d = m[6] / (2.0 * 3.141592653589793 * a * b);
    double amp = d < 70.0 ? m[8] * exp(d) : 4.0 * m[7];
    if (amp > 4.0 * m[7]) amp = 4.0 * m[7];
    m[1] = mx;
    m[2] = my;
    m[6] = amp;
    m[9] = y2 / det;
    m[10] = x2 / det;
    m[11] = -2.0 * xy / det;
  }
  for (int32_t p = 0; p < n; p++) {
    if (owner[p] >= 0) continue;
    const double x = idx[p] % nx - xmin, y = idx[p] / nx - ymin;
    double best = -1.0, dmin = INFINITY;
    int32_t cbest = 0, cnear = 0;
    for (int32_t c = 0; c < nc; c++) {
      const double *m = mom + c * 12;
      const double dx = x - m[1], dy = y - m[2];
      const double dist = 0.5 * (m[9] * dx * dx + m[10] * dy * dy + m[11] * dx * dy);
      const double pr = dist < 70.0 ? m[6] * exp(-dist) : 0.0;
      if (pr > best) {
        best = pr;
        cbest = c;
      }
      if (dist < dmin) {
        dmin = dist;
        cnear = c;
      }
    }
    owner[p] = best > 1e-31 ? cbest : cnear;
  }
  free(mom);
  *nchild = nc;
  return SD_OK;
}
