import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { ProtocolError } from '../../protocol/codes.ts';
import { keys } from '../keys.ts';
import { loadLua } from './lua-source.ts';
import { argsOf, hotScripts, type ArgEncoder, type HotScript, type LeanCommand, type ScriptLink } from './script-link.ts';

/**
 * The store's Lua scripts, one file each in ./lua, read once at start. A line
 * `--!include <file>` is replaced by that file (the shared clock and presence snippets).
 * Every script touches keys of one hash slot only, and uses Redis time (TIME) as its
 * clock, so nodes with skewed clocks still agree on ts, presence v and leases.
 */
const scriptKeys = {
  send: 5,
  reclaim: 4,
  'reclaim-claim': 1,
  'reclaim-finish': 1,
  'conv-state': 3,
  history: 3,
  'group-create': 4,
  'group-join': 4,
  'group-leave': 4,
  'group-get': 3,
  'index-group': 2,
  'forget-convs': 2,
  'new-conversation': 1,
  'cursors-advance': 1,
  'read-advance': 1,
  'conn-open': 2,
  'conn-close': 2,
  'lease-renew': 2,
  'leases-expired': 1,
  'sweep-claim': 3,
  'sweep-finish': 3,
  'registry-forget': 1,
} as const;

export type ScriptName = keyof typeof scriptKeys;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const commandName = (name: ScriptName) => `im_${name.replace(/-/g, '_')}`;

/** Defines every script as a command on `redis` (EVALSHA with a fallback to EVAL). */
export function defineScripts(redis: Redis): Record<ScriptName, ScriptFn> {
  const out = {} as Record<ScriptName, ScriptFn>;
  const cmds = redis as unknown as Record<string, ScriptFn>;
  for (const [name, numberOfKeys] of Object.entries(scriptKeys) as [ScriptName, number][]) {
    const cmd = commandName(name);
    if (!(cmd in cmds)) redis.defineCommand(cmd, { numberOfKeys, lua: loadLua(`${name}.lua`) });
    out[name] = (...args) => cmds[cmd]!.apply(redis, args);
  }
  return out;
}

/** The same scripts queued on a pipeline. */
export function pipelineScript(pipeline: unknown, name: ScriptName, ...args: (string | number)[]): void {
  (pipeline as Record<string, ScriptFn>)[commandName(name)]!(...args);
}

export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/** Redis failures become `unavailable`; a broken script is a bug and becomes `internal`. */
export function storeError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/Error running script|ERR user_script|WRONGTYPE|@user_script/i.test(msg)) return new ProtocolError('internal', 'store script failed', { cause: err });
  return new ProtocolError('unavailable', 'the store did not confirm in time; retry with the same cmid', { cause: err });
}

/** Runs a store call under the seams' error contract (see ../log.ts). */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(err);
  }
}

/** `<epoch>|<seq>` as cursors and read marks are stored. */
export function parseMark(v: string | null | undefined): { epoch: string; seq: number } | null {
  if (!v) return null;
  const bar = v.indexOf('|');
  return { epoch: v.slice(0, bar), seq: Number(v.slice(bar + 1)) };
}

/** What every Redis seam implementation starts from: the command link, its scripts and the bus channel its scripts publish on. */
export abstract class ScriptedStore {
  protected readonly redis: Redis;
  protected readonly scripts: Record<ScriptName, ScriptFn>;
  protected readonly channel = keys.busChannel();

  /** the lean link for the hot scripts (script-link.ts); absent or not ready: ioredis */
  protected readonly fast: ScriptLink | null;

  constructor(redis: Redis, fast: ScriptLink | null = null) {
    this.redis = redis;
    this.scripts = defineScripts(redis);
    this.fast = fast;
  }

  /** The socket a hot script call of this turn will be written to, to hold for the turn; null: the lean link, which writes a turn's calls at once itself. */
  protected hotSocket(): Writable | null {
    return this.fast?.isReady ? null : this.redis.stream;
  }

  /** A hot script: on the lean link while it is ready, else on ioredis. */
  protected hot(name: HotScript, args: (string | number)[]): Promise<unknown> {
    const fast = this.fast;
    return fast?.isReady ? fast.call(hotScripts[name], args) : this.scripts[name](...args);
  }

  /** A plain command on the lean link while it is ready; null: not ready (the caller uses ioredis). */
  protected lean(c: LeanCommand, args: readonly (string | number)[]): Promise<unknown> | null {
    const fast = this.fast;
    return fast?.isReady ? fast.command(c, args) : null;
  }

  /** A hot script with `enc`'s arguments for `item`: written straight into the lean link's batch while it is ready, else an array for ioredis. */
  protected hotWith<T>(name: HotScript, item: T, enc: ArgEncoder<T>): Promise<unknown> {
    const fast = this.fast;
    return fast?.isReady ? fast.callWith(hotScripts[name], item, enc) : this.scripts[name](...argsOf(enc, item));
  }
}
