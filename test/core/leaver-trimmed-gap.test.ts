import { describe, expect, it } from 'vitest';
import type { ConversationLog } from '../../server/store/log.ts';
import { settle, simCluster } from './sim-node.ts';

/**
 * (1) A replay learns of a leave from the membership it reads with a batch of the log; when that
 * batch is empty (retention removed the rest), the trimmed `gap` it sends must stop at the
 * leave. It went up to the target taken before the read: a device of a user who left at 3
 * was told of a trimmed gap up to 5, and its view ended at 5, past the leave.
 */
describe('a leave learnt by a replay whose range retention removed', () => {
  for (const cursor of [0, 3]) {
    it(`the trimmed gap ends at the leave (device cursor ${cursor}, leave at 3)`, async () => {
      let now = 0;
      // u3's connect sync reads its states before the leave; the answer comes late
      let gate: Promise<void> | null = null;
      let open = (): void => {};
      let waiting = 0;
      const wrapLog = (log: ConversationLog): ConversationLog =>
        new Proxy(log, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver) as unknown;
            if (prop !== 'states') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
            return async (user: string, convs: string[], afterLog?: boolean) => {
              const answer = await target.states(user, convs, afterLog);
              if (gate && user === 'u3' && !afterLog) {
                waiting++;
                await gate;
              }
              return answer;
            };
          },
        });
      // the bus brings n1 nothing: the hub learns the leave from the store only
      const { store, nodes } = simCluster(1, { autoBus: false, wrapLog, now: () => now, limits: { retentionMs: 1000 } });
      const n1 = nodes[0]!;
      const send = (cmid: string) => store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid, bodyJson: '"x"' });
      await store.createGroup('owner', 'team', ['u3']);
      for (const cmid of ['m1', 'm2', 'm3']) await send(cmid);
      const { epoch } = (await store.heads(['g:team']))[0]!;
      if (cursor) await store.advanceCursors('u3', 'a', new Map([['g:team', { epoch: epoch!, seq: cursor }]]));

      gate = new Promise<void>((r) => (open = r));
      const connecting = n1.connect('u3', 'a');
      for (let i = 0; i < 50 && waiting === 0; i++) await settle(1);
      expect(waiting, "u3's connect sync reads the group's state (member, head 3)").toBe(1);
      await store.leaveGroup('u3', 'team', 'u3');
      for (const cmid of ['m4', 'm5']) await send(cmid);
      now = 2000;
      await store.reclaim(10);
      expect(await store.range('g:team', 1, null, 10), 'retention removed the whole log').toEqual([]);
      // another member's connect starts n1's group channel at the head (5): u3's replay
      // aims there, with no end yet (its state said member)
      await n1.connect('owner', 'o');

      gate = null;
      open();
      const c = await connecting;
      await settle(40);

      const team = c.socket.frames.filter((f) => 'conv' in f && f.conv === 'g:team');
      expect(team.filter((f) => f.t === 'msg')).toEqual([]);
      const gaps = team.flatMap((f) => (f.t === 'gap' ? [`${f.from}..${f.to}`] : []));
      // u3 left at 3: nothing past it is its (a device that has it all gets nothing at all)
      expect(gaps).toEqual(cursor ? [] : ['1..3']);
      if (cursor) expect(team).toEqual([]);
      expect(c.conn.finished?.get('g:team')?.pos, 'the view ends at the leave').toBe(3);
      expect(c.socket.frames.at(-1)?.t).toBe('synced');
    });
  }
});

/**
 * (2) The same in the channel's fill: a fill reads the group's membership beside its batch
 * (reconcileMembership), so a leave the bus never brought moves a caught-up leaver's end to
 * its leave during the read; the trimmed gap the fill then announces (skipped) went up to
 * the fill's end regardless, and the view stayed attached past the leave.
 */
describe("a leave learnt by the channel fill's own membership read", () => {
  for (const later of [false, true]) {
    it(`the trimmed gap stops at the leave (${later ? 'seq 6 kept: a hole skipped' : 'all trimmed: an empty fill'})`, async () => {
      let now = 0;
      const { store, nodes } = simCluster(1, { autoBus: false, now: () => now, limits: { retentionMs: 1000 } });
      const n1 = nodes[0]!;
      const send = (cmid: string) => store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid, bodyJson: '"x"' });
      await store.createGroup('owner', 'team', ['u3']);
      for (const cmid of ['m1', 'm2', 'm3']) await send(cmid);
      n1.link.loseAll();
      const c = await n1.connect('u3', 'a');
      await settle(20);
      expect(c.socket.frames.flatMap((f) => (f.t === 'msg' ? [f.seq] : []))).toEqual([1, 2, 3]);
      const before = c.socket.frames.length;

      // n1's bus link drops: the leave (at 3) and what follows never reach it by the bus
      n1.link.goDown();
      await store.leaveGroup('u3', 'team', 'u3');
      for (const cmid of ['m4', 'm5']) await send(cmid);
      now = 2000;
      await store.reclaim(10);
      if (later) await send('m6');
      n1.link.reopen();
      await settle(60);

      const team = c.socket.frames.slice(before).filter((f) => 'conv' in f && f.conv === 'g:team');
      // u3 left at 3: nothing past it is its own
      expect(team).toEqual([]);
      expect(c.conn.views?.has('g:team') ?? false, 'the view ended').toBe(false);
      expect(c.conn.finished?.get('g:team')?.pos, 'at the leave').toBe(3);
    });
  }
});
