import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTestBugs, processBugs, storeBugs } from '../../server/testing/faulty-stores.ts';
import { loadConfig, ConfigError } from '../../server/config/config.ts';
import { clientFrame, describeZodError } from '../../server/protocol/frames.ts';
import { dmConv, parseConv } from '../../server/protocol/ids.ts';

const userIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

describe('conversation ids', () => {
  it('parses dm ids only when a < b and both are user ids', () => {
    expect(parseConv('dm:a:b')).toEqual({ kind: 'dm', id: 'dm:a:b', a: 'a', b: 'b' });
    expect(parseConv('dm:b:a')).toBeNull();
    expect(parseConv('dm:a:a')).toBeNull();
    expect(parseConv('dm:a')).toBeNull();
    expect(parseConv('g:team-1')).toEqual({ kind: 'group', id: 'g:team-1', group: 'team-1' });
    expect(parseConv('g:')).toBeNull();
    expect(parseConv('x:a:b')).toBeNull();
  });

  it('dmConv(a, b) round-trips through parseConv for any two distinct user ids', () => {
    fc.assert(
      fc.property(userIdArb, userIdArb, (a, b) => {
        fc.pre(a !== b);
        const ref = parseConv(dmConv(a, b));
        expect(ref?.kind).toBe('dm');
        expect(new Set([ref!.kind === 'dm' && ref!.a, ref!.kind === 'dm' && ref!.b])).toEqual(new Set([a, b]));
      }),
    );
  });
});

describe('client frames', () => {
  it('accepts the frames of PROTOCOL.md and ignores unknown fields', () => {
    for (const f of [
      { t: 'send', id: 'r1', conv: 'dm:u1:u2', cmid: 'c-1', body: 'hi', extra: 1 },
      { t: 'ack', conv: 'g:x', seq: 7 },
      { t: 'read', id: 'r', conv: 'g:x', seq: 0 },
      { t: 'history', id: 'r2', conv: 'g:x', before: 50, limit: 100 },
      { t: 'presence.sub', id: 'r3', users: ['u2', 'u3'] },
      { t: 'presence.unsub', users: [] },
      { t: 'auth', id: 'r5', token: 'x.y.z' },
      { t: 'ping', id: 'r4' },
    ]) {
      expect(clientFrame.safeParse(f).success, JSON.stringify(f)).toBe(true);
    }
  });

  it('names the field that is wrong', () => {
    const r = clientFrame.safeParse({ t: 'send', conv: 'dm:u1:u2', cmid: 'bad cmid!', body: 'x' });
    expect(r.success).toBe(false);
    expect(describeZodError(r.error!)).toMatch(/`cmid`/);
    const h = clientFrame.safeParse({ t: 'history', conv: 'g:x', limit: 101 });
    expect(describeZodError(h.error!)).toMatch(/`limit`.*1\.\.100/);
    const u = clientFrame.safeParse({ t: 'nope' });
    expect(describeZodError(u.error!)).toMatch(/unknown frame type/);
    const id = clientFrame.safeParse({ t: 'ping', id: 'x'.repeat(65) });
    expect(describeZodError(id.error!)).toMatch(/`id`/);
  });
});

const S = 'test-secret-of-at-least-32-bytes-0123456789';

describe('configuration', () => {
  it('reads env and flags, flags winning, and applies PROTOCOL.md defaults', () => {
    const c = loadConfig({ JWT_SECRET: S, PORT: '9000' }, ['--port', '9001', '--allow-volatile-store']);
    expect(c.PORT).toBe(9001);
    expect(c.ALLOW_VOLATILE_STORE).toBe(true);
    expect(c.HEARTBEAT_MS).toBe(25000);
    expect(c.BACKLOG_LIMIT).toBe(500);
  });

  it('names the variable and the flag in every error', () => {
    expect(() => loadConfig({}, [])).toThrow(/JWT_SECRET: is required.*JWT_SECRET_FILE/);
    expect(() => loadConfig({ JWT_SECRET: S, PORT: 'abc' })).toThrow(/PORT \/ --port.*got "abc"/);
    expect(() => loadConfig({ JWT_SECRET: S }, ['--nope'])).toThrow(ConfigError);
  });

  it('CAPTURE_*: off by default; a sample outside 0..1, a budget under 1 MiB, or a capture setting without CAPTURE_DIR names the variable and the fix', () => {
    const off = loadConfig({ JWT_SECRET: S });
    expect(off.CAPTURE_DIR).toBeUndefined();
    expect(off.CAPTURE_BODIES).toBe(false);
    const on = loadConfig({ JWT_SECRET: S, CAPTURE_DIR: '/tmp/cap' }, ['--capture-sample', '0.25', '--capture-bodies']);
    expect(on).toMatchObject({ CAPTURE_DIR: '/tmp/cap', CAPTURE_SAMPLE: 0.25, CAPTURE_BODIES: true, CAPTURE_MAX_BYTES: 1073741824 });
    expect(() => loadConfig({ JWT_SECRET: S, CAPTURE_DIR: '/tmp/cap', CAPTURE_SAMPLE: '1.5' })).toThrow(/CAPTURE_SAMPLE \/ --capture-sample: must be the fraction of users recorded, 0\.\.1.*got "1\.5"/);
    expect(() => loadConfig({ JWT_SECRET: S, CAPTURE_DIR: '/tmp/cap', CAPTURE_MAX_BYTES: '1000' })).toThrow(/CAPTURE_MAX_BYTES \/ --capture-max-bytes: must be at least 1048576/);
    expect(() => loadConfig({ JWT_SECRET: S, CAPTURE_SAMPLE: '0.5' })).toThrow(/CAPTURE_SAMPLE \/ --capture-sample: has no effect without CAPTURE_DIR; set CAPTURE_DIR=<directory>/);
  });

  it('RECLAIM_INTERVAL_MS: 100..3600000 ms (default 10000); anything else names the variable, the range and an example', () => {
    expect(loadConfig({ JWT_SECRET: S }).RECLAIM_INTERVAL_MS).toBe(10000);
    expect(loadConfig({ JWT_SECRET: S }, ['--reclaim-interval-ms', '250']).RECLAIM_INTERVAL_MS).toBe(250);
    for (const bad of ['abc', '50', '1.5', '4000000']) {
      expect(() => loadConfig({ JWT_SECRET: S, RECLAIM_INTERVAL_MS: bad })).toThrow(new RegExp(`RECLAIM_INTERVAL_MS / --reclaim-interval-ms: .*100\\.\\.3600000, e\\.g\\. 10000.*got "${bad.replace('.', '\\.')}"`));
    }
  });

  it('MAX_SENDS_IN_FLIGHT: 1..1000000 sends (default 512); anything else names the variable, the range and an example', () => {
    expect(loadConfig({ JWT_SECRET: S }).MAX_SENDS_IN_FLIGHT).toBe(512);
    expect(loadConfig({ JWT_SECRET: S }, ['--max-sends-in-flight', '64']).MAX_SENDS_IN_FLIGHT).toBe(64);
    for (const bad of ['abc', '0', '-1', '1.5', '2000000']) {
      expect(() => loadConfig({ JWT_SECRET: S, MAX_SENDS_IN_FLIGHT: bad })).toThrow(new RegExp(`MAX_SENDS_IN_FLIGHT / --max-sends-in-flight: .*1\\.\\.1000000, e\\.g\\. 512.*got "${bad.replace('.', '\\.')}"`));
    }
  });

  it('the test entry knows its deliberate bugs and names unknown ones', () => {
    expect(parseTestBugs('skip_dedupe, drop_replay')).toEqual(['skip_dedupe', 'drop_replay']);
    // every variant is named, whichever branch added it
    expect(() => parseTestBugs('nonsense')).toThrow(new Error(`TEST_BUGS: unknown bug "nonsense" (known: ${[...Object.keys(storeBugs), ...Object.keys(processBugs)].join(', ')})`));
    expect(Object.keys(storeBugs)).toContain('skip_dedupe');
    expect(Object.keys(processBugs)).toContain('throw_uncaught');
  });
});
