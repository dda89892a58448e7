import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/slow.ts';
import type { DrainFact, StallFact } from '../../harness/model/facts.ts';
import { close, connect, input, population, t } from './build.ts';

const pop = population({ u1: ['d0'] }, {});
const stall: StallFact = { k: 'stall', client: 'u1/d0', mode: 'pause', at: t(1000), end: t(9000) };
const drain = (more: Partial<DrainFact>): DrainFact => ({ k: 'drain', client: 'u1/d0', conn: 'c1', at: t(9000), kernelBytes: 4 * 1024 * 1024, rxQueue: 1024 * 1024, txQueue: 3 * 1024 * 1024, bytes: 4 * 1024 * 1024, frames: 300, pages: 0, synced: true, until: t(9500), ended: 'closed', code: 1006, ...more });
const opts = { options: { slow: { limitBytes: 32 * 1024, maxBodyBytes: 16_384 } }, population: pop };

describe('slow', () => {
  it('passes a cut connection (only the kernel share was waiting) and flags one the node kept megabytes for', () => {
    const ok = check(input([connect('u1/d0', 'c1', 0), stall, drain({}), close('u1/d0', 'c1', 9500)], opts));
    expect(ok).toMatchObject({ guarantee: 'slow', ok: true, checked: 1 });
    expect(ok.summary).toBe("ok: 1 read stall measured when the device read again (1 of them cut by the node); most the node kept for one: 0 KiB beyond the kernel's share");
    const kept = check(input([connect('u1/d0', 'c1', 0), stall, drain({ bytes: 9 * 1024 * 1024, ended: 'caught-up', code: undefined })], opts));
    expect(kept.violations.map((v) => v.message)).toEqual([
      "u1/d0 stopped reading (pause) at t+1.000s on connection c1 (node-1) and read again at t+9.000s on the same connection: it then read 9.0 MiB in 300 frames until it caught up at t+9.500s, of which the kernel held 4.0 MiB (its receive queue 1.0 MiB, the node's send queue 3.0 MiB): the node kept 5.0 MiB for it in memory, more than SLOW_CONSUMER_BYTES 32 KiB and the slack allow (352 KiB), instead of cutting it 4413",
    ]);
  });

  it('does not judge a connection still replaying its backlog, one behind the proxy, or one whose queues were unreadable', () => {
    const big = { bytes: 9 * 1024 * 1024, ended: 'caught-up' as const, code: undefined };
    expect(check(input([connect('u1/d0', 'c1', 0), stall, drain({ ...big, synced: false })], opts)).summary).toContain('1 stall that ended while the connection was still replaying its backlog not judged');
    expect(check(input([connect('u1/d0', 'c1', 0), stall, drain({ ...big, kernelBytes: undefined })], opts)).summary).toContain("not judged: the kernel's queues of the connection were not readable");
    expect(check(input([connect('u1/d0', 'c1', 0), stall, drain(big)], { ...opts, options: { slow: { ...opts.options.slow, proxied: true } } })).summary).toContain('not judged: client links go through the proxy');
  });
});
