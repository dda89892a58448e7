import { keys } from '../keys.ts';
import type { ConvMark, CursorStore, DeviceMarks, StoredMark } from '../cursors.ts';
import { holdForTurn } from '../../util/turn-cork.ts';
import { parseMark, ScriptedStore, storeCall } from './scripts.ts';

/** `cursors-advance`'s arguments after its key: triples conv, epoch, seq */
function markArgs(marks: readonly ConvMark[]): (string | number)[] {
  const args: (string | number)[] = [];
  for (const m of marks) args.push(m.conv, m.epoch, m.seq);
  return args;
}

/** CursorStore on Redis: one hash of `<epoch>|<seq>` per device (cursors) and per user (reads). */
export class RedisCursorStore extends ScriptedStore implements CursorStore {

  cursors(user: string, device: string): Promise<Map<string, StoredMark>> {
    return this.marks(keys.cursors(user, device));
  }

  cursorOf(user: string, device: string, conv: string): Promise<StoredMark | null> {
    return storeCall(async () => parseMark(await this.redis.hget(keys.cursors(user, device), conv)));
  }

  reads(user: string): Promise<Map<string, StoredMark>> {
    return this.marks(keys.reads(user));
  }

  private marks(key: string): Promise<Map<string, StoredMark>> {
    return storeCall(async () => {
      const out = new Map<string, StoredMark>();
      for (const [conv, v] of Object.entries(await this.redis.hgetall(key))) {
        const m = parseMark(v);
        if (m) out.set(conv, m);
      }
      return out;
    });
  }

  async advanceCursors(user: string, device: string, marks: readonly ConvMark[]): Promise<void> {
    if (!marks.length) return;
    await storeCall(() => this.hot('cursors-advance', [keys.cursors(user, device), ...markArgs(marks)]));
  }

  /**
   * One `cursors-advance` call per device (each device's hash is in its own user's slot),
   * all written in one write at the end of the turn (turn-cork.ts), as a pipeline would.
   * Not an ioredis pipeline: it cost about 13 µs of CPU a command on this machine against
   * about 8 for a plain call (issue 10: a node flushes up to one cursor per connection a
   * second, about one per message in the 1:1 bench).
   */
  async advanceCursorsBatch(batch: readonly DeviceMarks[]): Promise<boolean[]> {
    if (!batch.length) return [];
    return storeCall(async () => {
      holdForTurn(this.hotSocket());
      const res = await Promise.allSettled(batch.map((d) => (d.marks.length ? this.hot('cursors-advance', [keys.cursors(d.user, d.device), ...markArgs(d.marks)]) : this.redis.ping())));
      const ok = res.map((r) => r.status === 'fulfilled');
      if (!ok.includes(true)) throw (res.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined)?.reason ?? new Error('no answer');
      return ok;
    });
  }

  advanceRead(user: string, mark: ConvMark, originConn: string): Promise<boolean> {
    return storeCall(async () => (await this.scripts['read-advance'](keys.reads(user), mark.conv, mark.epoch, mark.seq, this.channel, user, originConn)) === 1);
  }
}
