/**
 * Token buckets, one per user on this node: sends (WebSocket and HTTP share one set) and
 * group operations each have their own.
 * Refilled lazily on use; idle full buckets are forgotten by `prune` so memory follows
 * active senders, not every user ever seen.
 */
export class RateBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly rate: number;
  private readonly burst: number;

  constructor(ratePerSec: number, burst: number) {
    this.rate = ratePerSec;
    this.burst = burst;
  }

  /** Takes one token; false when the user is over the bucket. */
  take(user: string, now: number): boolean {
    let b = this.buckets.get(user);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(user, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  prune(now: number): void {
    for (const [user, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.rate) / 1000 >= this.burst) this.buckets.delete(user);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
