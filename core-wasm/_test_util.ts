/**
 * Deterministic random numbers and small image builders for the core's TypeScript tests.
 *
 * @module
 */

/** A seeded generator (mulberry32) with uniform and normal draws. */
export class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.uniform(), v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Poisson deviate (Knuth's product method; a rounded normal above mean 30). */
  poisson(mean: number): number {
    if (mean > 30) return Math.round(mean + Math.sqrt(mean) * this.normal());
    const l = Math.exp(-mean);
    let k = 0, p = 1;
    do {
      k++;
      p *= this.uniform();
    } while (p > l);
    return k - 1;
  }
}

/** Adds a circular Gaussian of total flux at (x0, y0), pixel-integrated by 5x5 subsampling. */
export function addGaussian(
  data: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  sigma: number,
  flux: number,
): void {
  const r = Math.ceil(5 * sigma);
  const norm = flux / (2 * Math.PI * sigma * sigma) / 25;
  for (let y = Math.max(0, Math.floor(y0) - r); y <= Math.min(height - 1, Math.ceil(y0) + r); y++) {
    for (
      let x = Math.max(0, Math.floor(x0) - r);
      x <= Math.min(width - 1, Math.ceil(x0) + r);
      x++
    ) {
      let s = 0;
      for (let j = 0; j < 5; j++) {
        for (let i = 0; i < 5; i++) {
          const dx = x - 0.4 + 0.2 * i - x0, dy = y - 0.4 + 0.2 * j - y0;
          s += Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
        }
      }
      data[y * width + x] += norm * s;
    }
  }
}
