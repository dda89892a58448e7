import type { Redis } from 'ioredis';

/** The INFO fields PROTOCOL.md "Durability" requires; returns what is wrong, or null. */
export async function checkDurability(redis: Redis, allowVolatile: boolean): Promise<string | null> {
  // two small sections, not the whole INFO: a running node asks every few seconds
  const info = (await redis.info('persistence')) + (await redis.info('memory'));
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const problems: string[] = [];
  if (field('aof_enabled') !== '1' && !allowVolatile) {
    problems.push('Redis runs without appendonly: acked messages would be lost on a restart. Set `appendonly yes` (CONFIG SET appendonly yes, or redis-server --appendonly yes), or ALLOW_VOLATILE_STORE=1 for throwaway data');
  }
  const policy = field('maxmemory_policy');
  if (policy !== 'noeviction') {
    problems.push(`Redis maxmemory-policy is ${policy ?? 'unknown'}: evicting keys would lose messages and dedupe entries. Set \`maxmemory-policy noeviction\``);
  }
  return problems.length ? problems.join('; ') : null;
}
