// A dm's two users index it before its first message is stored (DESIGN.md: writes that span
// slots are ordered so a crash in between loses nothing). A device that connects inside that
// window reads the index entry while the dm has no meta yet; it must not take the entry for
// a stale one and forget it — found by the disconnect-storm scenario, where reconnect herds
// hit the window often: the user's later connections never learned of the dm, and its first
// message was lost for them (`lost`: "dm:… seq 1 … never reached member …").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../server/store/keys.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { dm, uid } from '../helpers/ids.ts';
import { sleep } from '../helpers/procs.ts';
import { rawCommand } from '../helpers/redis.ts';

describe('a dm indexed before its first message is stored', () => {
  let cl: Cluster;
  beforeAll(async () => {
    cl = await startCluster();
  });
  afterAll(async () => {
    await cl?.cleanup();
  });

  it('stays in the user index when a device of that user connects inside the window, and the device gets the first message live', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const node = cl.nodes[0]!;
    // the send's first step (redis-log.ts send(): both users index the dm), its script not run yet
    for (const u of [s, r]) expect(await rawCommand(cl.redis.port, ['HSET', keys.userConvs(u), conv, '1'])).toBe(1);
    const cr = cl.track(await connectAs(node, r, 'd0'));
    await cr.waitSynced();
    // forgetConvs ran without being awaited on the buggy path: give it time to land
    await sleep(300);
    expect(await rawCommand(cl.redis.port, ['HEXISTS', keys.userConvs(r), conv])).toBe(1);
    // the first message, then reaches the open connection and a later one of the same user
    const cs = cl.track(await connectAs(node, s, 'd0'));
    await cs.waitSynced();
    const sent = await cs.request({ t: 'send', conv, cmid: 'first', body: 'hello' });
    expect(sent).toMatchObject({ t: 'sent', seq: 1 });
    await cr.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 1);
    const later = cl.track(await connectAs(node, r, 'd1'));
    await later.waitSynced();
    expect(later.frames.some((f) => f.t === 'msg' && f.conv === conv && f.seq === 1)).toBe(true);
  });
});
