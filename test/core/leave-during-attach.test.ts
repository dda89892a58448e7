import { describe, expect, it } from 'vitest';
import { heldStates, settle, simCluster } from './sim-node.ts';

/**
 * A leave whose bus event arrives while a connection's attach is still reading the
 * conversation's state must still end that membership. The reads were answered before the
 * leave was stored (so they say "member"), and the leave found no view to end (the attach
 * had not made one yet): the connection was attached as a member for good and got the
 * group's later messages — a delivery to a non-member. Found by `imstorm explore --model
 * --seed 5` on the correct server (join and leave at seq 0, then a send to the group).
 */
describe('a leave that arrives while an attach reads', () => {
  const groupSeqs = (frames: readonly { t: string }[]) => frames.filter((f) => f.t === 'msg' && (f as { conv?: string }).conv === 'g:team').map((f) => (f as { seq?: number }).seq);

  /** u2, connected on n1, is added to the group; its attach's read is answered and held. */
  async function joinedWhileConnected() {
    const held = heldStates('after');
    const { store, nodes } = simCluster(1, { wrapLog: held.wrapLog });
    const n1 = nodes[0]!;
    await store.createGroup('owner', 'team', []);
    const c = await n1.connect('u2', 'a');
    await settle();
    held.hold();
    await store.joinGroup('owner', 'team', ['u2']);
    for (let i = 0; i < 50 && held.waiting() === 0; i++) await settle(1);
    return { store, n1, c, held };
  }

  it("a join's attach (the user was connected already) does not outlive the leave", async () => {
    const { store, n1, c, held } = await joinedWhileConnected();
    expect(held.waiting(), "the join's attach reads the conversation's state").toBeGreaterThan(0);
    // the leave is stored and its bus event handled while that read's answer is on its way
    await store.leaveGroup('u2', 'team', 'u2');
    await settle();
    held.release();
    await settle(40);

    await store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid: 'after-leave', bodyJson: '"x"' });
    await settle(40);
    expect(groupSeqs(c.socket.frames), 'group messages pushed to a user who left before them').toEqual([]);
    expect(n1.hub.channelCount, 'channels held for a non-member').toBe(0);
  });

  for (const owed of [0, 1]) {
    it(`a connect sync's reads do not outlive a leave either (${owed} message${owed === 1 ? '' : 's'} owed from before it)`, async () => {
      const held = heldStates('after');
      const { store, nodes } = simCluster(1, { wrapLog: held.wrapLog });
      const n1 = nodes[0]!;
      await store.createGroup('owner', 'team', ['u2']);
      for (let i = 0; i < owed; i++) await store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid: `owed-${i}`, bodyJson: '"x"' });
      await settle();

      held.hold();
      const connecting = n1.connect('u2', 'a');
      for (let i = 0; i < 50 && held.waiting() === 0; i++) await settle(1);
      expect(held.waiting(), "the connect sync reads the conversations' states").toBeGreaterThan(0);
      await store.leaveGroup('u2', 'team', 'u2');
      await settle();
      held.release();
      const c = await connecting;
      await settle(40);

      await store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid: 'after-leave', bodyJson: '"x"' });
      await settle(40);
      // what was stored while u2 was a member is owed; the message after the leave is not
      expect(groupSeqs(c.socket.frames)).toEqual(Array.from({ length: owed }, (_, i) => i + 1));
      expect(c.socket.frames.some((f) => f.t === 'synced')).toBe(true);
    });
  }

  it('a re-join after the leave, during the same reads, is attached from its own join point', async () => {
    const { store, n1, c, held } = await joinedWhileConnected();
    await store.leaveGroup('u2', 'team', 'u2');
    await store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid: 'between', bodyJson: '"x"' });
    await store.joinGroup('owner', 'team', ['u2']);
    await settle();
    held.release();
    await settle(60);

    await store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid: 'after-rejoin', bodyJson: '"y"' });
    await settle(40);
    // seq 1 was stored between the leave and the re-join: never owed
    expect(groupSeqs(c.socket.frames)).toEqual([2]);
  });
});
