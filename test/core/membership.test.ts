import { describe, expect, it } from 'vitest';
import { settle, simCluster } from './sim-node.ts';

/**
 * A member that leaves and joins again while its node's bus link is down (both payloads
 * lost): its open connection is owed what was stored up to the leave and from the new
 * join on — not what was stored in between (PROTOCOL.md "Connect" 6; found by the
 * membership-churn scenario in a CI rehearsal).
 */
describe('leave and re-join while the bus link is down', () => {
  it('a connected member gets what was stored before its leave and after its re-join, and nothing in between', async () => {
    const { store, nodes } = simCluster(2, { autoBus: true });
    const [n1] = nodes;
    await store.createGroup('owner', 'team', ['u3']);
    const c = await n1!.connect('u3', 'a');
    await settle();
    n1!.link.goDown();
    const send = (cmid: string) => store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid, bodyJson: '"x"' });
    await send('owed-1');
    await store.leaveGroup('u3', 'team', 'u3');
    await send('not-owed-2');
    await store.joinGroup('owner', 'team', ['u3']);
    await send('owed-3');
    n1!.link.reopen();
    await settle(40);
    const got = c.socket.frames.filter((f) => f.t === 'msg' && f.conv === 'g:team').map((f) => (f.t === 'msg' ? f.seq : 0));
    expect(got).toEqual([1, 3]);
  });

  it('the same with the payloads arriving (no loss) while the connection is still behind', async () => {
    const { store, nodes, broker } = simCluster(1, { autoBus: false });
    const [n1] = nodes;
    await store.createGroup('owner', 'team', ['u3']);
    broker.links.forEach((l) => l.loseAll());
    const c = await n1!.connect('u3', 'a');
    await settle();
    const send = (cmid: string) => store.send({ conv: 'g:team', isGroup: true, dmUsers: [], sender: 'owner', cmid, bodyJson: '"x"' });
    await send('owed-1');
    await send('owed-2');
    await store.leaveGroup('u3', 'team', 'u3');
    await send('not-owed-3');
    await store.joinGroup('owner', 'team', ['u3']);
    await send('owed-4');
    // m1, m2, l, m3, j, m4 in order: deliver them all
    while (n1!.link.deliverNext()) await settle(2);
    await settle(40);
    const got = c.socket.frames.filter((f) => f.t === 'msg' && f.conv === 'g:team').map((f) => (f.t === 'msg' ? f.seq : 0));
    expect(got).toEqual([1, 2, 4]);
  });
});
