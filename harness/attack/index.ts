// The hostile clients of scenario `hostile`: every attack against every node at once,
// bounded in count and time, from 127.0.0.1 only. Starts with start(), and stop() waits
// for every attack to end (each stops by the deadline), then reads the Redis residue.
import { AnswerLog, type AttackRecord } from './answers.ts';
import { tokenAttacks } from './bad-tokens.ts';
import type { AttackContext, AttackNode, NodeLimits } from './context.ts';
import { floods } from './floods.ts';
import { groupSpam, newRefusals } from './group-spam.ts';
import { httpFuzz } from './http-fuzz.ts';
import type { AttackParams } from './params.ts';
import { protocolFuzz } from './protocol-fuzz.ts';
import { Residue, type ResidueSample } from './residue.ts';
import { transportAttacks } from './transport.ts';

export type { AttackParams } from './params.ts';
export { attackSchema } from './params.ts';

export interface HostileOptions {
  params: AttackParams;
  nodes: readonly AttackNode[];
  limits: NodeLimits;
  redisUrl: string;
  jwtSecret: string;
  seed: number;
  /** attacker user ids start with it */
  prefix: string;
  begin: AttackContext['begin'];
  log: (line: string) => void;
}

export interface HostileResult {
  seed: number;
  record: AttackRecord;
  residue: ResidueSample;
  /** when the attacks began and ended */
  start: number;
  end: number;
}

/** Answers still awaited after the deadline are given up on after this. */
const GRACE_MS = 20_000;

export class HostileAttack {
  readonly #o: HostileOptions;
  readonly #log = new AnswerLog();
  readonly #refusals = newRefusals();
  readonly #created = new Set<string>();
  readonly #residue: Residue;
  readonly #active = new Map<string, number>();
  #running: Promise<void> | null = null;
  #start = 0;

  constructor(o: HostileOptions) {
    this.#o = o;
    this.#residue = new Residue(o.redisUrl, o.prefix);
  }

  /** Counts the attacker keys, then starts every attack on every node. */
  async start(): Promise<void> {
    const { params: p, nodes } = this.#o;
    await this.#residue.before();
    this.#start = Date.now();
    const ctx: AttackContext = { nodes, log: this.#log, limits: this.#o.limits, deadline: this.#start + p.durationMs, seed: this.#o.seed, prefix: this.#o.prefix, jwtSecret: this.#o.jwtSecret, begin: this.#o.begin, active: this.#active, users: { next: 0 } };
    this.#o.log(`attack: seed ${this.#o.seed}; ${nodes.length} nodes; ${p.protocolFrames} protocol frames per node; for at most ${p.durationMs} ms`);
    const perNode = nodes.map((node, i) =>
      Promise.all([
        transportAttacks(ctx, node, p),
        protocolFuzz(ctx, node, i, { frames: p.protocolFrames, sessions: p.fuzzSessions, notHello: p.notHello }),
        tokenAttacks(ctx, node, p.tokenRounds),
        floods(ctx, node, p),
        groupSpam(ctx, node, p.groupRounds, 25, this.#refusals, this.#created),
        httpFuzz(ctx, node, i, p.httpFuzz, p.bigBodies),
      ]),
    );
    this.#running = Promise.all(perNode).then(() => {});
    // stop() reports a failed attack; until then it must not be an unhandled rejection
    this.#running.catch(() => {});
  }

  /** Waits for the attacks (at most the deadline plus GRACE_MS), then measures the residue. */
  async stop(): Promise<HostileResult> {
    const deadline = this.#start + this.#o.params.durationMs + GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, deadline - Date.now()))));
    const how = await Promise.race([this.#running!.then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (how === 'late') throw new Error(`attack: still running ${GRACE_MS} ms after its deadline; stalled attacks: ${this.#stalled()}`);
    const end = Date.now();
    const residue = await this.#residue.after(this.#refusals, this.#created);
    return { seed: this.#o.seed, record: this.#log.record(), residue, start: this.#start, end };
  }

  #stalled(): string {
    return [...this.#active.keys()].join(', ') || 'none (their answers were still being read)';
  }
}
