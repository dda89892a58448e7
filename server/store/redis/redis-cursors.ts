import { keyParts, keys } from '../keys.ts';
import type { ConvMark, CursorStore, DeviceMarks, StoredMark } from '../cursors.ts';
import { holdForTurn } from '../../util/turn-cork.ts';
import { parseMark, ScriptedStore, storeCall } from './scripts.ts';
import { strOfRoom, strRoom, UINT_ROOM } from './resp-batch.ts';
import { hotScripts, leanCommands, type ArgEncoder } from './script-link.ts';

/**
 * A device's `cursors-advance` arguments: its key, written from its parts (keys.ts keyParts),
 * then triples conv, epoch, seq. The ack flusher's batches were about 10 % of what the 1:1
 * bench's node allocated at 5,000 msg/s (issue 10, a sampling heap profile): per device,
 * the key, two argument arrays, a promise and what Promise.allSettled kept for it.
 */
const deviceAdvance: ArgEncoder<DeviceMarks> = {
  count: (d) => 1 + 3 * d.marks.size,
  room(d) {
    let room = strOfRoom(keyParts.cursorsUser, d.user, keyParts.cursorsDevice, d.device);
    for (const [conv, m] of d.marks) room += strRoom(conv) + strRoom(m.epoch) + UINT_ROOM;
    return room;
  },
  write(d, out) {
    out.strOf(keyParts.cursorsUser, d.user, keyParts.cursorsDevice, d.device);
    for (const [conv, m] of d.marks) {
      out.str(conv);
      out.str(m.epoch);
      out.uint(m.seq);
    }
  },
};

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
      const lean = this.lean(leanCommands.hgetall, [key]);
      if (lean) {
        // HGETALL as RESP gives it: field, value, field, value…
        const flat = (await lean) as string[];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const m = parseMark(flat[i + 1]);
          if (m) out.set(flat[i]!, m);
        }
        return out;
      }
      for (const [conv, v] of Object.entries(await this.redis.hgetall(key))) {
        const m = parseMark(v);
        if (m) out.set(conv, m);
      }
      return out;
    });
  }

  async advanceCursors(user: string, device: string, marks: ReadonlyMap<string, StoredMark>): Promise<void> {
    if (!marks.size) return;
    await storeCall(() => this.hotWith('cursors-advance', { user, device, marks }, deviceAdvance));
  }

  /**
   * One `cursors-advance` call per device (each device's hash is in its own user's slot),
   * all written in one write at the end of the turn, as a pipeline would: on the lean link
   * straight into its batch (callEach); on ioredis held for the turn (turn-cork.ts). Not an
   * ioredis pipeline: it cost about 13 µs of CPU a command on this machine against about 8
   * for a plain call (issue 10: a node flushes up to one cursor per connection a second,
   * about one per message in the 1:1 bench).
   */
  async advanceCursorsBatch(batch: readonly DeviceMarks[]): Promise<boolean[]> {
    if (!batch.length) return [];
    return storeCall(async () => {
      const fast = this.fast;
      let ok: boolean[];
      if (fast?.isReady) ok = await fast.callEach(hotScripts['cursors-advance'], batch, deviceAdvance);
      else {
        holdForTurn(this.hotSocket());
        const res = await Promise.allSettled(batch.map((d) => this.hotWith('cursors-advance', d, deviceAdvance)));
        ok = res.map((r) => r.status === 'fulfilled');
      }
      if (!ok.includes(true)) throw new Error('the store confirmed no cursor of the batch');
      return ok;
    });
  }

  advanceRead(user: string, mark: ConvMark, originConn: string): Promise<boolean> {
    return storeCall(async () => (await this.scripts['read-advance'](keys.reads(user), mark.conv, mark.epoch, mark.seq, this.channel, user, originConn)) === 1);
  }
}
