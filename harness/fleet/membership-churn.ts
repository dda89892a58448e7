import { mintToken } from '../util/tokens.ts';
import type { MemberFact } from '../model/facts.ts';
import { httpCall } from '../util/http-call.ts';
import { Rng } from './rng.ts';
import type { RecordedMemberChange } from './recorded.ts';
import type { GroupPlan } from './workload.ts';

export interface MembershipChurnOptions {
  groups: readonly GroupPlan[];
  /** every user of the run (joiners are drawn from those outside a group) */
  users: readonly string[];
  /** base URLs of the nodes to send changes to, in turn (those running now) */
  nodeUrls: () => string[];
  jwtSecret: string;
  /** where tokens come from instead of jwtSecret (a target's --token-cmd) */
  token?: (user: string) => Promise<string>;
  /** membership changes per second over the whole run (one at a time) */
  ratePerSec: number;
  seed: number;
  /** how long one change may keep failing (every node tried in turn) before the run fails */
  giveUpAfterMs?: number;
  /**
   * Why no node will come back (e.g. "node-1 exited by itself"), or undefined: with no node
   * running and a reason, a change gives up at once instead of retrying for giveUpAfterMs.
   */
  crashed?: () => string | undefined;
  /**
   * A replay's recorded changes (workload.recorded.membership), each made at its `at` ms
   * after start() instead of drawn at `ratePerSec`; made the same way, with the same facts.
   */
  script?: readonly RecordedMemberChange[];
}

/** A membership change that no node would make: the run cannot know who is a member. */
export class MembershipChurnError extends Error {}

/**
 * Joins and leaves during the load, from the orchestrator, through the HTTP API of each
 * node in turn: the owner of a group adds a user outside it, or removes a member (never
 * itself, and never below two members). Each change that took effect becomes a `member`
 * fact with the window in which it did: from its first attempt to the answer that made
 * it (a retry on another node after an error answer may find it done already; an add or
 * remove is idempotent, so the answer still means the change holds).
 */
export class MembershipChurn {
  readonly facts: MemberFact[] = [];
  /** recorded changes (script) a node refused for good, said why */
  readonly refused: string[] = [];
  readonly #o: MembershipChurnOptions;
  readonly #rng: Rng;
  readonly #members = new Map<string, Set<string>>();
  readonly #tokens = new Map<string, string>();
  #running = false;
  #loop: Promise<void> | null = null;
  /** a change that could not be made: the loop ends, and stop() rethrows it */
  #error: unknown = null;
  #next = 0;

  constructor(o: MembershipChurnOptions) {
    this.#o = o;
    this.#rng = new Rng(o.seed);
    for (const g of o.groups) this.#members.set(g.id, new Set(g.members));
  }

  start(): void {
    if (this.#running) return;
    const script = this.#o.script;
    if (script ? script.length === 0 : this.#o.groups.length === 0 || this.#o.ratePerSec <= 0) return;
    this.#running = true;
    // caught here, not left to stop(): a failure mid-run must not be an unhandled rejection
    this.#loop = (script ? this.#runScript(script, Date.now()) : this.#run()).catch((err: unknown) => {
      this.#error = err;
      this.#running = false;
    });
  }

  /** Stops after the change in flight; rejects with MembershipChurnError if one could not be made. */
  async stop(): Promise<MemberFact[]> {
    this.#running = false;
    await this.#loop;
    if (this.#error !== null) throw this.#error;
    return this.facts;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      await new Promise((r) => setTimeout(r, this.#rng.expMs(this.#o.ratePerSec)));
      if (!this.#running) return;
      await this.#change();
    }
  }

  /** The recorded changes in order, each at its time (one at a time: a late one delays the next, as a slow node would). */
  async #runScript(script: readonly RecordedMemberChange[], start: number): Promise<void> {
    for (const c of script) {
      const wait = start + c.at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.#running) return;
      await this.#make(c.group, c.user, c.op === 'leave', c.by);
    }
  }

  async #change(): Promise<void> {
    const g = this.#o.groups[this.#rng.int(this.#o.groups.length)]!;
    const members = this.#members.get(g.id)!;
    const leavers = [...members].filter((u) => u !== g.owner);
    const joiners = this.#o.users.filter((u) => !members.has(u));
    const leave = joiners.length === 0 || (members.size > 2 && this.#rng.next() < 0.5);
    const pool = leave ? leavers : joiners;
    if (pool.length === 0) return;
    const user = pool[this.#rng.int(pool.length)]!;
    await this.#make(g.id, user, leave, g.owner);
  }

  /** One change through the nodes in turn until one answers 200 (or giveUpAfterMs passes); then its `member` fact. */
  async #make(group: string, user: string, leave: boolean, by: string): Promise<void> {
    const members = this.#members.get(group) ?? this.#members.set(group, new Set()).get(group)!;
    const token = await this.#token(by);
    const path = leave ? `/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(user)}` : `/v1/groups/${encodeURIComponent(group)}/members`;
    const at = Date.now();
    const deadline = at + (this.#o.giveUpAfterMs ?? 15_000);
    let last = '';
    for (;;) {
      const urls = this.#o.nodeUrls();
      const url = urls[this.#next++ % Math.max(1, urls.length)];
      if (url) {
        try {
          const res = await httpCall(`${url}${path}`, { method: leave ? 'DELETE' : 'POST', token, body: leave ? undefined : { users: [user] }, timeoutMs: 3000 });
          if (res.status === 200) break;
          last = `HTTP ${res.status} ${res.text}`;
          // a recorded change this build refuses for good (403: `by` may not change the group here): a divergence of
          // the replay, not a run that cannot go on; nothing changed, so no fact
          if (this.#o.script && res.status >= 400 && res.status < 500 && res.status !== 429) {
            this.refused.push(`${leave ? 'removing' : 'adding'} ${user} ${leave ? 'from' : 'to'} group ${group} as ${by}: ${last.slice(0, 200)}`);
            return;
          }
        } catch (err) {
          last = err instanceof Error ? err.message : String(err);
        }
      } else {
        last = 'no node running';
        const why = this.#o.crashed?.();
        if (why) throw new MembershipChurnError(`${leave ? 'removing' : 'adding'} ${user} ${leave ? 'from' : 'to'} group ${group}: no node running (${why})`);
      }
      if (Date.now() > deadline) throw new MembershipChurnError(`${leave ? 'removing' : 'adding'} ${user} ${leave ? 'from' : 'to'} group ${group} failed on every node for ${Date.now() - at} ms; last: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (leave) members.delete(user);
    else members.add(user);
    this.facts.push({ k: 'member', conv: `g:${group}`, user, op: leave ? 'leave' : 'join', at, until: Date.now() });
  }

  async #token(user: string): Promise<string> {
    let t = this.#tokens.get(user);
    if (!t) {
      t = this.#o.token ? await this.#o.token(user) : await mintToken(this.#o.jwtSecret, user);
      this.#tokens.set(user, t);
    }
    return t;
  }
}
