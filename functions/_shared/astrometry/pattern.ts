/**
 * Triangle pattern matching of two point lists in the same (pixel) frame, up to
 * a similarity transform (offset, rotation, scale), with no prior on the offset.
 *
 * Both lists are turned into triangles of their brightest points (every triple
 * whose sides lie within [minSide, maxSide]). A triangle is described by its
 * sides sorted L1 <= L2 <= L3: the invariants L1/L3 and L2/L3 do not change
 * under a similarity, the orientation (sign of the turn from the vertex opposite
 * L1 to the others) does not change either when the parity is right, and the
 * sorted sides name corresponding vertices. Triangles of the two lists with
 * invariants within `tolerance`, a scale ratio within `scaleTolerance` and a
 * rotation within `maxRotationDeg` each vote for the similarity that maps one
 * onto the other, in bins of rotation and offset. The most voted transforms are
 * verified by counting the points that land within `verifyRadius` of a
 * reference point, refitted by least squares on those pairs, and the one with
 * most pairs wins.
 *
 * @module
 */

/** A point of a list: position in pixels. */
export interface Point {
  x: number;
  y: number;
}

/** x' = a x - b y + tx, y' = b x + a y + ty: scale hypot(a, b), rotation atan2(b, a). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Applies a similarity to a point. */
export function applySimilarity(t: Similarity, x: number, y: number): [number, number] {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

/** Scale of a similarity. */
export function similarityScale(t: Similarity): number {
  return Math.hypot(t.a, t.b);
}

/** Rotation of a similarity, degrees counter-clockwise. */
export function similarityRotationDeg(t: Similarity): number {
  return (Math.atan2(t.b, t.a) * 180) / Math.PI;
}

/** Options of {@linkcode matchPatterns}. */
export interface PatternOptions {
  /** Largest difference of the side-ratio invariants of matched triangles. @default 0.01 */
  tolerance?: number;
  /** Largest |scale - 1| of a candidate transform. @default 0.05 */
  scaleTolerance?: number;
  /** Largest |rotation| (degrees) of a candidate transform. @default 10 */
  maxRotationDeg?: number;
  /** Shortest triangle side (px). @default 15 */
  minSide?: number;
  /** Longest triangle side (px). @default 600 */
  maxSide?: number;
  /** Radius (px) within which a transformed point counts as matched in the verification. @default 4 */
  verifyRadius?: number;
  /** Transforms verified (the most voted bins). @default 12 */
  candidates?: number;
}

/** The result of {@linkcode matchPatterns}. */
export interface PatternMatch {
  /** Maps `from` points onto `to` points. */
  transform: Similarity;
  /** Verified pairs: indices into `from` and `to`. */
  pairs: Array<[number, number]>;
  /** Votes of the winning bin. */
  votes: number;
  /** Triangles built from each list. */
  triangles: [number, number];
  /**
   * Pairs a random transform would find on average: verifyFrom points times the
   * chance that one lands within the radius of a verifyTo point (their density
   * over their bounding box).
   */
  expectedRandom: number;
}

interface Triangle {
  /** Vertices: p opposite L1, q opposite L2, r opposite L3. */
  p: number;
  q: number;
  r: number;
  r1: number;
  r2: number;
  l3: number;
  orient: number;
}

/** Triangles of the points with every side within [minSide, maxSide]. */
function triangles(pts: Point[], minSide: number, maxSide: number, tol: number): Triangle[] {
  const n = pts.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.hypot(pts[i].x - pts[j].x, pts[i].y - pts[j].y);
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  const ok = (v: number) => v >= minSide && v <= maxSide;
  const out: Triangle[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (!ok(d[i * n + j])) continue;
      for (let k = j + 1; k < n; k++) {
        if (!ok(d[i * n + k]) || !ok(d[j * n + k])) continue;
        // sides opposite each vertex
        const sides: Array<[number, number]> = [[d[j * n + k], i], [d[i * n + k], j], [
          d[i * n + j],
          k,
        ]];
        sides.sort((u, v) => u[0] - v[0]);
        const [l1, l2, l3] = [sides[0][0], sides[1][0], sides[2][0]];
        // ambiguous vertex order: sides too close to tell apart
        if (l2 - l1 < 3 * tol * l3 || l3 - l2 < 3 * tol * l3) continue;
        const p = sides[0][1], q = sides[1][1], r = sides[2][1];
        const cross = (pts[q].x - pts[p].x) * (pts[r].y - pts[p].y) -
          (pts[q].y - pts[p].y) * (pts[r].x - pts[p].x);
        out.push({ p, q, r, r1: l1 / l3, r2: l2 / l3, l3, orient: Math.sign(cross) });
      }
    }
  }
  return out;
}

/** Least-squares similarity mapping from[i] onto to[i]. */
export function fitSimilarity(from: Point[], to: Point[]): Similarity {
  const n = from.length;
  let mx = 0, my = 0, nx = 0, ny = 0;
  for (let i = 0; i < n; i++) {
    mx += from[i].x;
    my += from[i].y;
    nx += to[i].x;
    ny += to[i].y;
  }
  mx /= n, my /= n, nx /= n, ny /= n;
  let sxx = 0, sab = 0, sba = 0;
  for (let i = 0; i < n; i++) {
    const u = from[i].x - mx, v = from[i].y - my;
    const U = to[i].x - nx, V = to[i].y - ny;
    sxx += u * u + v * v;
    sab += u * U + v * V;
    sba += u * V - v * U;
  }
  const a = sab / sxx, b = sba / sxx;
  return { a, b, tx: nx - (a * mx - b * my), ty: ny - (b * mx + a * my) };
}

/** A grid over points for radius queries. */
export class PointGrid {
  readonly #cell: number;
  readonly #cells = new Map<number, number[]>();
  constructor(readonly points: Point[], cell: number) {
    this.#cell = cell;
    points.forEach((p, i) => {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
      const key = this.#key(Math.floor(p.x / cell), Math.floor(p.y / cell));
      const list = this.#cells.get(key);
      if (list) list.push(i);
      else this.#cells.set(key, [i]);
    });
  }
  #key(i: number, j: number): number {
    return (i + 32768) * 65536 + (j + 32768);
  }
  /** Index of the nearest point within `radius` of (x, y), or -1. */
  nearest(x: number, y: number, radius: number): number {
    const c = this.#cell;
    const i0 = Math.floor((x - radius) / c), i1 = Math.floor((x + radius) / c);
    const j0 = Math.floor((y - radius) / c), j1 = Math.floor((y + radius) / c);
    let best = -1, bestD = radius * radius;
    for (let i = i0; i <= i1; i++) {
      for (let j = j0; j <= j1; j++) {
        const list = this.#cells.get(this.#key(i, j));
        if (!list) continue;
        for (const k of list) {
          const dx = this.points[k].x - x, dy = this.points[k].y - y;
          const d2 = dx * dx + dy * dy;
          if (d2 <= bestD) {
            bestD = d2;
            best = k;
          }
        }
      }
    }
    return best;
  }
}

/**
 * One-to-one pairs of `from` points (mapped by `map`) and `grid` points within
 * `radius`: each from-point takes its nearest grid point; a grid point claimed
 * twice keeps the closer claim.
 */
export function pairWithin(
  from: Point[],
  map: (x: number, y: number) => [number, number],
  grid: PointGrid,
  radius: number,
): Array<[number, number]> {
  const claim = new Map<number, [number, number]>(); // to -> [from, d2]
  from.forEach((p, i) => {
    const [x, y] = map(p.x, p.y);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const j = grid.nearest(x, y, radius);
    if (j < 0) return;
    const d2 = (grid.points[j].x - x) ** 2 + (grid.points[j].y - y) ** 2;
    const prev = claim.get(j);
    if (!prev || d2 < prev[1]) claim.set(j, [i, d2]);
  });
  return [...claim.entries()].map(([j, [i]]) => [i, j] as [number, number]).sort((u, v) =>
    u[0] - v[0]
  );
}

/**
 * Finds the similarity transform mapping `from` onto `to` (both ordered
 * brightest first; use a few dozen of each). `verifyFrom` and `verifyTo`
 * (default: the same lists) are the larger lists the candidates are verified
 * on. Returns null when no triangle pair agrees.
 */
export function matchPatterns(
  from: Point[],
  to: Point[],
  options: PatternOptions = {},
  verifyFrom: Point[] = from,
  verifyTo: Point[] = to,
): PatternMatch | null {
  const tol = options.tolerance ?? 0.01;
  const scaleTol = options.scaleTolerance ?? 0.05;
  const maxRot = ((options.maxRotationDeg ?? 10) * Math.PI) / 180;
  const minSide = options.minSide ?? 15, maxSide = options.maxSide ?? 600;
  const verifyRadius = options.verifyRadius ?? 4;
  const nCand = options.candidates ?? 12;

  const tf = triangles(from, minSide, maxSide, tol);
  const tt = triangles(to, minSide * (1 - scaleTol), maxSide * (1 + scaleTol), tol);
  if (tf.length === 0 || tt.length === 0) return null;
  tt.sort((u, v) => u.r1 - v.r1);
  const r1s = Float64Array.from(tt, (t) => t.r1);
  const lower = (v: number) => {
    let lo = 0, hi = r1s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r1s[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  // votes in bins of rotation (0.5 deg) and offset (8 px)
  const angBin = (0.5 * Math.PI) / 180, offBin = 8;
  const bins = new Map<string, { n: number; votes: Similarity[] }>();
  for (const s of tf) {
    for (let k = lower(s.r1 - tol); k < tt.length && tt[k].r1 <= s.r1 + tol; k++) {
      const t = tt[k];
      if (Math.abs(t.r2 - s.r2) > tol || t.orient !== s.orient) continue;
      const scale = t.l3 / s.l3;
      if (Math.abs(scale - 1) > scaleTol) continue;
      const sim = fitSimilarity(
        [from[s.p], from[s.q], from[s.r]],
        [to[t.p], to[t.q], to[t.r]],
      );
      const rot = Math.atan2(sim.b, sim.a);
      if (Math.abs(rot) > maxRot || Math.abs(similarityScale(sim) - 1) > scaleTol) continue;
      const key = `${Math.round(rot / angBin)},${Math.round(sim.tx / offBin)},${
        Math.round(sim.ty / offBin)
      }`;
      const bin = bins.get(key);
      if (bin) {
        bin.n++;
        bin.votes.push(sim);
      } else bins.set(key, { n: 1, votes: [sim] });
    }
  }
  if (bins.size === 0) return null;
  // a bin's score includes its neighbours' votes (transforms near a bin edge)
  const scored = [...bins.entries()].map(([key, bin]) => {
    const [ka, kx, ky] = key.split(",").map(Number);
    let n = 0;
    const votes: Similarity[] = [];
    for (let da = -1; da <= 1; da++) {
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const nb = bins.get(`${ka + da},${kx + dx},${ky + dy}`);
          if (nb) {
            n += nb.n;
            votes.push(...nb.votes);
          }
        }
      }
    }
    return { n, own: bin.n, votes };
  }).sort((u, v) => v.n - u.n || v.own - u.own);

  const grid = new PointGrid(verifyTo, Math.max(verifyRadius, 16));
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of verifyTo) {
    x0 = Math.min(x0, p.x), x1 = Math.max(x1, p.x), y0 = Math.min(y0, p.y), y1 = Math.max(y1, p.y);
  }
  const density = verifyTo.length / Math.max(1, (x1 - x0) * (y1 - y0));
  const expectedRandom = verifyFrom.length *
    Math.min(1, density * Math.PI * verifyRadius * verifyRadius);
  let best: PatternMatch | null = null;
  for (const cand of scored.slice(0, nCand)) {
    const med = (f: (s: Similarity) => number) => {
      const v = cand.votes.map(f).sort((x, y) => x - y);
      return v[v.length >> 1];
    };
    let t: Similarity = {
      a: med((s) => s.a),
      b: med((s) => s.b),
      tx: med((s) => s.tx),
      ty: med((s) => s.ty),
    };
    let pairs = pairWithin(verifyFrom, (x, y) => applySimilarity(t, x, y), grid, verifyRadius * 2);
    // refine on the pairs, then verify at the final radius
    for (let it = 0; it < 3 && pairs.length >= 3; it++) {
      t = fitSimilarity(pairs.map(([i]) => verifyFrom[i]), pairs.map(([, j]) => verifyTo[j]));
      pairs = pairWithin(verifyFrom, (x, y) => applySimilarity(t, x, y), grid, verifyRadius);
    }
    if (!best || pairs.length > best.pairs.length) {
      best = {
        transform: t,
        pairs,
        votes: cand.n,
        triangles: [tf.length, tt.length],
        expectedRandom,
      };
    }
  }
  return best;
}
