import assert from "node:assert/strict";
import { leastSquares, monomials } from "./linalg.ts";

Deno.test("leastSquares recovers exact polynomial coefficients", () => {
  const terms = monomials(3);
  const m = 200, n = terms.length;
  const a = new Float64Array(m * n);
  const truth = Float64Array.from({ length: n }, (_, k) => (k + 1) * (k % 2 ? -0.3 : 0.7));
  const b = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const u = Math.cos(i * 1.3), v = Math.sin(i * 0.7);
    terms.forEach(([p, q], k) => {
      a[i * n + k] = u ** p * v ** q;
      b[i] += truth[k] * u ** p * v ** q;
    });
  }
  const [x] = leastSquares(a, m, n, [b]);
  for (let k = 0; k < n; k++) assert.ok(Math.abs(x[k] - truth[k]) < 1e-10, `term ${k}`);
  assert.equal(monomials(2, 2).length, 3);
  assert.throws(() => leastSquares(new Float64Array(6), 3, 2, [new Float64Array(3)]), /rank/);
});
