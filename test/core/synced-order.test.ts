import { describe, expect, it } from 'vitest';
import { heldStates, settle, simCluster } from './sim-node.ts';

const conv = 'dm:ua:ub';

/**
 * PROTOCOL.md, Connect 3: every `conv` frame of the connect sequence comes before `synced`.
 * A dm message that reaches the node while the connect sync still reads the store starts an
 * attach of the connection to that dm (attachDmUsers), and the sync leaves the dm to it. The
 * sync must wait for that attach before it says `synced`: found by the `order` reading of a
 * `message-loss` report, where a device got the dm's `conv` frame 2 ms after its `synced`.
 */
describe('a dm message during the connect sync', () => {
  it('its conv frame and backlog come before synced', async () => {
    const held = heldStates('before');
    const { store, nodes } = simCluster(1, { wrapLog: held.wrapLog });
    const n1 = nodes[0]!;
    const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ub', cmid, bodyJson: '"x"' });
    await send('m1');
    await settle();

    held.hold();
    const connecting = n1.connect('ua', 'd1');
    for (let i = 0; i < 50 && held.waiting() === 0; i++) await settle(1);
    expect(held.waiting(), 'the connect sync reads the conversation states').toBe(1);
    // the dm's next message comes over the bus while the reads are out
    await send('m2');
    await settle();
    expect(held.waiting(), 'the attach the message started reads too').toBe(2);
    held.release();
    const a = await connecting;
    await settle(40);

    const seen = a.socket.frames.map((f) => (f.t === 'conv' ? `conv ${f.cursor}/${f.head}` : f.t === 'msg' ? `msg ${f.seq}` : f.t));
    expect(seen.indexOf('synced'), `frames: ${seen.join(', ')}`).toBe(seen.length - 1);
    expect(seen.filter((s) => s.startsWith('msg'))).toEqual(['msg 1', 'msg 2']);
  });
});
