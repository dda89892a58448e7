import { describe, expect, it } from 'vitest';
import { heldStates, settle, simCluster, type SimConn } from './sim-node.ts';

/**
 * A connection that closes while its connect sync still reads the store must not be
 * attached to the hub afterwards: its close already left the hub (removeConn), so nothing
 * would ever take it off again — a channel held for a dead socket, pushes counted to it.
 */
describe('a connection closed during its connect sync', () => {
  it('is not attached to any channel once the reads return', async () => {
    // the store's `states` waits while held: the connect sync's reads are in flight
    const held = heldStates('before');
    const { store, nodes } = simCluster(1, { wrapLog: held.wrapLog });
    const n1 = nodes[0]!;
    await store.createGroup('ua', 'g1', ['ub']);
    await store.send({ conv: 'dm:ua:ub', isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ub', cmid: 'm1', bodyJson: '"x"' });
    await store.send({ conv: 'g:g1', isGroup: true, dmUsers: [], sender: 'ub', cmid: 'm2', bodyJson: '"y"' });
    await settle();
    expect(n1.hub.channelCount).toBe(0);

    held.hold();
    let closedOne: SimConn | null = null;
    const connecting = n1.connect('ua', 'd1').then((c) => (closedOne = c));
    for (let i = 0; i < 50 && held.waiting() === 0; i++) await settle(1);
    expect(held.waiting(), 'the connect sync reads the conversations states').toBeGreaterThan(0);
    // the client goes away while the reads are in flight: the gateway's close runs (removeConn)
    const conn = n1.hub.conns.get([...n1.hub.conns.keys()][0]!)!;
    conn.ws.terminate();
    await settle();
    expect(conn.state).toBe('closed');
    held.release();
    await connecting;
    await settle();

    expect(closedOne).not.toBeNull();
    expect(conn.views, 'views of a closed connection').toBeNull();
    expect(conn.convs, 'conversations of a closed connection').toEqual([]);
    expect(n1.hub.channelCount, 'channels held for a closed connection').toBe(0);
    expect(n1.hub.conns.size).toBe(0);

    // a live message to the conversation finds nobody on this node to push to
    const frames = conn.ws as unknown as { frames: unknown[] };
    const before = frames.frames.length;
    await store.send({ conv: 'g:g1', isGroup: true, dmUsers: [], sender: 'ub', cmid: 'm3', bodyJson: '"z"' });
    await settle();
    expect(frames.frames.length).toBe(before);
    expect(n1.hub.channelCount).toBe(0);
  });
});
