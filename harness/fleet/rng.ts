/**
 * A small seeded PRNG (splitmix32). Every random choice of a run derives from one seed so
 * `--seed` repeats it; hand-written because it is ten lines and must be identical in every
 * fleet process (Math.random cannot be seeded).
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  /** exponential inter-arrival time for a Poisson process of `ratePerSec` (ms) */
  expMs(ratePerSec: number): number {
    return (-Math.log(1 - this.next()) / ratePerSec) * 1000;
  }
  /** a derived generator, independent of this one's future draws */
  fork(salt: number): Rng {
    return new Rng((this.int(0xffffffff) ^ Math.imul(salt + 1, 0x27d4eb2d)) >>> 0);
  }
}
