/**
 * Periodic work over every member of a live Set, a slice per tick instead of all of it in
 * one burst that stalls the event loop: a round of `ticksPerRound` ticks visits each member
 * once. A Set's iterator survives additions and deletions, so the walk keeps its place;
 * members added during a round are visited in it.
 */
export class RingWalk<T> {
  private readonly members: Set<T>;
  readonly ticksPerRound: number;
  private walk: Iterator<T> | null = null;

  constructor(members: Set<T>, ticksPerRound: number) {
    this.members = members;
    this.ticksPerRound = Math.max(1, Math.floor(ticksPerRound));
  }

  /** how many members one tick visits: a share of the set's size now, at least one */
  slice(): number {
    return Math.max(1, Math.ceil(this.members.size / this.ticksPerRound));
  }

  /** The round's next member, or undefined when the round is over (the call after starts the next one). */
  next(): T | undefined {
    this.walk ??= this.members.values();
    const step = this.walk.next();
    if (step.done) {
      this.walk = null;
      return undefined;
    }
    return step.value;
  }
}
