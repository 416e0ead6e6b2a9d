/**
 * Seeded random numbers for the simulator: small, fast and reproducible on every
 * platform (32-bit integer arithmetic only). Not for cryptography.
 *
 * @module
 */

/** Mixes 32-bit words into one well-spread 32-bit seed (murmur3 finaliser chain). */
export function hashSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    // numbers up to 2^53: mix the low and high 32-bit halves
    const lo = w >>> 0;
    const hi = Math.floor(w / 4294967296) >>> 0;
    for (const part of [lo, hi]) {
      let k = Math.imul(part, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seeded generator (sfc32) with the distributions the simulator needs. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | null = null;

  /** @param seed any number; the same seed always gives the same sequence */
  constructor(seed: number) {
    this.#a = hashSeed(seed, 1);
    this.#b = hashSeed(seed, 2);
    this.#c = hashSeed(seed, 3);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in (0, 1) with 53 bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5, lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer uniform in [0, n) for n <= 2^53. */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Normal deviate of mean mu and standard deviation sigma (Box-Muller). */
  normal(mu = 0, sigma = 1): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return mu + sigma * s;
    }
    const u = this.uniform(), v = this.uniform();
    const m = Math.sqrt(-2 * Math.log(u));
    this.#spare = m * Math.sin(2 * Math.PI * v);
    return mu + sigma * m * Math.cos(2 * Math.PI * v);
  }

  /** Poisson deviate (exact below mean 50, normal approximation above). */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 50) {
      const l = Math.exp(-mean);
      let k = 0, p = this.uniform();
      while (p > l) {
        k++;
        p *= this.uniform();
      }
      return k;
    }
    return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
  }

  /** Log-uniform in [lo, hi). */
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.range(Math.log(lo), Math.log(hi)));
  }
}
