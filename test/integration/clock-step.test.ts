// A step of the node's wall clock (NTP after a VM resumes, an operator's `date -s`), for real:
// the node runs under libfaketime (LD_PRELOAD), which moves its CLOCK_REALTIME — Date.now() —
// by what a file says, read at every call, and leaves CLOCK_MONOTONIC alone (server/util/clock.ts
// times everything on that). Real Redis, real sockets. On the wall-clock code, a step back of an
// hour left a sender `rate_limited` for the hour (the bucket an hour of tokens short) and a
// silent connection open for the hour (the sweep judged none).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBFAKETIME } from '../../harness/util/system-deps.ts';
import { Client } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { dm, uid } from '../helpers/ids.ts';
import { sleep } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

const HEARTBEAT_MS = 1000;
const SEND_RATE = 5;

const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-clock-'));
const offsetFile = path.join(dir, 'faketime');
/** the node's wall clock: this many seconds off the real one from the node's next reading on */
const setOffset = (seconds: number) => writeFileSync(offsetFile, `${seconds >= 0 ? '+' : ''}${seconds}`);

let cl: Cluster;

beforeAll(async () => {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install libfaketime (npm test's pretest installs it where it can: harness/util/system-deps.ts)`);
  setOffset(0);
  cl = await startCluster({
    env: {
      HEARTBEAT_MS,
      SEND_RATE,
      SEND_BURST: SEND_RATE,
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: offsetFile,
      FAKETIME_NO_CACHE: 1,
      FAKETIME_DONT_FAKE_MONOTONIC: 1,
    },
  });
});
afterAll(async () => {
  await cl?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('the node\'s wall clock set an hour back', () => {
  it('a sender goes on at its rate, a silent connection is still closed 4408 after two heartbeat windows, and messages are still delivered', async () => {
    const node = cl.nodes[0]!;
    const [a, b] = [uid(), uid()];
    const conv = dm(a, b);
    const sender = cl.track(await connectAs(node, a));
    const reader = cl.track(await connectAs(node, b));
    await sender.waitSynced();
    await reader.waitSynced();
    const silent = cl.track(await Client.connect(node.wsUrl, { autoPong: false }));
    await silent.hello(await token({ sub: uid() }));
    for (let i = 1; i <= 3; i++) expect(await sender.request({ t: 'send', conv, cmid: `before${i}`, body: 'x' })).toMatchObject({ t: 'sent', seq: i });
    // libfaketime reads the file at the node's next Date.now(); the monotonic clock runs on
    setOffset(-3600);
    const steppedAt = Date.now();
    // at the rate: one send every 1.5 / SEND_RATE s, more than the bucket refills between them
    for (let i = 1; i <= 6; i++) {
      expect(await sender.request({ t: 'send', conv, cmid: `after${i}`, body: 'y' }), `send ${i} after the step`).toMatchObject({ t: 'sent', seq: 3 + i });
      await sleep(1500 / SEND_RATE);
    }
    await reader.waitFor((f) => f.t === 'msg' && f.cmid === 'after6');
    const close = await silent.waitClose(15_000);
    expect(close.code).toBe(4408);
    expect(close.at - steppedAt, 'the silent connection outlived two heartbeat windows').toBeLessThan(2 * HEARTBEAT_MS + 4000);
    expect(sender.isOpen && reader.isOpen).toBe(true);
  });
});
