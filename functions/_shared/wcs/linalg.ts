/**
 * Small dense least squares (Householder QR) for polynomial fits.
 *
 * @module
 */

/**
 * Solves min ||A x - b|| for A of m rows and n columns (row-major, m >= n) by
 * Householder QR; several right-hand sides at once (`bs`). Throws when A is
 * rank deficient.
 */
export function leastSquares(
  a: Float64Array,
  m: number,
  n: number,
  bs: Float64Array[],
): Float64Array[] {
  if (m < n) throw new Error(`least squares needs at least ${n} rows, got ${m}`);
  const A = a.slice();
  const B = bs.map((b) => b.slice());
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += A[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) throw new Error("least squares: rank-deficient design matrix");
    const alpha = A[k * n + k] > 0 ? -norm : norm;
    // v = x - alpha e1, stored in column k below the diagonal
    A[k * n + k] -= alpha;
    let vnorm2 = 0;
    for (let i = k; i < m; i++) vnorm2 += A[i * n + k] ** 2;
    if (vnorm2 > 0) {
      for (let j = k + 1; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += A[i * n + k] * A[i * n + j];
        const f = (2 * dot) / vnorm2;
        for (let i = k; i < m; i++) A[i * n + j] -= f * A[i * n + k];
      }
      for (const b of B) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += A[i * n + k] * b[i];
        const f = (2 * dot) / vnorm2;
        for (let i = k; i < m; i++) b[i] -= f * A[i * n + k];
      }
    }
    diag[k] = alpha;
  }
  const maxDiag = Math.max(...Array.from(diag, Math.abs));
  return B.map((b) => {
    const x = new Float64Array(n);
    for (let k = n - 1; k >= 0; k--) {
      if (Math.abs(diag[k]) < 1e-13 * maxDiag) {
        throw new Error("least squares: rank-deficient design matrix");
      }
      let s = b[k];
      for (let j = k + 1; j < n; j++) s -= A[k * n + j] * x[j];
      x[k] = s / diag[k];
    }
    return x;
  });
}

/** Exponents (p, q) of the 2-D monomials u^p v^q with minDegree <= p + q <= order, by degree. */
export function monomials(order: number, minDegree = 0): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let d = minDegree; d <= order; d++) {
    for (let q = 0; q <= d; q++) out.push([d - q, q]);
  }
  return out;
}
