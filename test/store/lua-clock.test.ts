// The scripts' clock (server/store/redis/lua/now.lua): `now` in ms and `nowS`, the same ms as
// digits built from TIME's strings without a number-to-string conversion (its zero padding
// of the microseconds is the part that can go wrong). Run on Redis with TIME replaced by
// chosen values: the sub-millisecond edges and a live TIME.
import { describe, expect, it } from 'vitest';
import { loadLua } from '../../server/store/redis/lua-source.ts';
import { redisForFile } from '../helpers/redis.ts';

const file = redisForFile();
const TIME_CALL = "redis.call('TIME')";
const clock = loadLua('now.lua');
/** now.lua with TIME's answer taken from ARGV, returning what it computed */
const fixedClock = `${clock.replace(TIME_CALL, '{ARGV[1], ARGV[2]}')}\nreturn {nowS, tostring(now)}`;

describe("scripts' clock", () => {
  it('reads TIME', () => {
    expect(clock).toContain(TIME_CALL);
  });

  it.each(['0', '1', '5', '999', '1000', '5678', '12345', '99999', '100000', '123456', '999999'])('microseconds %s', async (usec) => {
    const sec = '1796553328';
    const want = String(Number(sec) * 1000 + Math.floor(Number(usec) / 1000));
    expect(await file.cmd.eval(fixedClock, 0, sec, usec)).toEqual([want, want]);
  });

  it('agrees with TIME', async () => {
    const [sec, usec] = (await file.cmd.time()).map(Number) as [number, number];
    const [nowS, now] = (await file.cmd.eval(`${clock}\nreturn {nowS, tostring(now)}`, 0)) as [string, string];
    expect(nowS).toBe(now);
    expect(Math.abs(Number(nowS) - (Number(sec) * 1000 + Math.floor(Number(usec) / 1000)))).toBeLessThan(1000);
  });
});
