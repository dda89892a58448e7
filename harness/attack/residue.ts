// Redis keys left by refused requests: counted by pattern before and after the attack.
import { Redis } from 'ioredis';
import { keys } from '../../server/store/keys.ts';
import type { GroupRefusals } from './group-spam.ts';

/** What the residue check reads. */
export interface ResidueSample {
  at: number;
  /** keys matching `c:{g:<attacker prefix>*` before the attack, and after */
  groupKeysBefore: number;
  groupKeysAfter: number;
  /** groups the attack created (accepted requests): their keys are expected */
  createdGroups: number;
  refusedGroups: number;
  refusedMembers: number;
  /** keys, index entries and memberships that name what refused requests listed */
  found: string[];
}

const MAX_FOUND = 50;
const MAX_PAIRS = 5000;

async function scanCount(r: Redis, pattern: string, each?: (key: string) => void): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += batch.length;
    if (each) for (const k of batch) each(k);
  } while (cursor !== '0');
  return n;
}

export class Residue {
  readonly #url: string;
  readonly #prefix: string;
  #before = 0;

  constructor(redisUrl: string, prefix: string) {
    this.#url = redisUrl;
    this.#prefix = prefix;
  }

  async #with<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis(this.#url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    r.on('error', () => {});
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  async before(): Promise<void> {
    this.#before = await this.#with((r) => scanCount(r, `c:{g:${this.#prefix}*`));
  }

  async after(refusals: GroupRefusals, created: ReadonlySet<string>): Promise<ResidueSample> {
    // keys of groups created or perhaps created are expected; those of refused ones are not
    return this.#with(async (r) => {
      const found: string[] = [];
      const add = (what: string) => found.length < MAX_FOUND && found.push(what);
      const after = await scanCount(r, `c:{g:${this.#prefix}*`, (key) => {
        const id = /^c:\{g:([^}]+)\}/.exec(key)?.[1];
        const why = id === undefined ? undefined : refusals.groups.get(id);
        if (why) add(`${key}: group ${id} was never created (refused: ${why})`);
      });
      const p = r.pipeline();
      const pairs = refusals.members.slice(0, MAX_PAIRS);
      for (const { conv, user } of pairs) {
        p.hexists(keys.userConvs(user), conv);
        p.hexists(keys.members(conv), user);
      }
      const res = (await p.exec()) ?? [];
      pairs.forEach(({ conv, user, why }, i) => {
        if (res[2 * i]?.[1] === 1) add(`${keys.userConvs(user)} lists ${conv}, but the request that listed ${user} was refused: ${why}`);
        if (res[2 * i + 1]?.[1] === 1) add(`${keys.members(conv)} has ${user}, but the request that listed it was refused: ${why}`);
      });
      return { at: Date.now(), groupKeysBefore: this.#before, groupKeysAfter: after, createdGroups: created.size, refusedGroups: refusals.groups.size, refusedMembers: pairs.length, found };
    });
  }
}
