// The capture writer on its own (fast, in-process, real files): rotation keeps a node's
// capture within CAPTURE_MAX_BYTES, and a write that fails stops the capture, logged once,
// without throwing into the caller (the node goes on serving).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { Capture, captureFiles } from '../../server/capture/capture.ts';
import { captureRecord } from '../../server/capture/schema.ts';
import { monoNow } from '../../server/util/clock.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'imstorm-capwriter-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const conn = { id: 'n.x.1', openedAt: performance.now(), user: 'u1', device: 'd1', captured: true, isOpen: true };
const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(cond(), what).toBe(true);
};

// `lagging`: all 60,000 records are queued in one turn, as when the disk falls behind; each
// write must still take only what its file has room for, or the rotation after one large
// write deletes the newest records (CI, stop 20: the `stop` record gone).
it.each([
  ['written as they come', false],
  ['queued in one turn while the disk lags', true],
])('rotates over four files and deletes the oldest, %s: the capture stays within CAPTURE_MAX_BYTES and keeps the newest records', async (_name, lagging) => {
  const dir = path.join(root, lagging ? 'rotate-lagging' : 'rotate');
  const errors: unknown[] = [];
  const cap = new Capture({ dir, node: 'n1', incarnation: 'n1.aa', sample: 1, maxBytes: 1_048_576, bodies: false, log: { error: (...a: unknown[]) => errors.push(a), warn: () => {}, info: () => {} } as never });
  // about 4.5 MiB of records: each file takes a quarter of 1 MiB
  for (let i = 0; i < 60_000; i++) {
    cap.msg(conn, 'g:busy', i + 1, 'live');
    if (i % 5000 === 0 && !lagging) await new Promise((r) => setTimeout(r, 5));
  }
  await cap.stop('test');
  const files = captureFiles(dir);
  const total = files.reduce((a, f) => a + readFileSync(f).length, 0);
  expect(errors).toEqual([]);
  expect(files.length).toBeLessThanOrEqual(4);
  expect(files.length).toBeGreaterThanOrEqual(3);
  expect(cap.records).toBeGreaterThan(60_000);
  expect(total).toBeLessThanOrEqual(1_048_576 + 64 * 1024);
  // the newest records are kept, each file begins with its header, every line parses
  const lines = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
  for (const f of files) expect(JSON.parse(readFileSync(f, 'utf8').split('\n')[0]!)).toMatchObject({ k: 'file', node: 'n1' });
  for (const l of lines) captureRecord.parse(JSON.parse(l));
  expect(lines.filter((l) => l.includes('"event":"stop"'))).toHaveLength(1);
  expect(lines.some((l) => l.includes('"seq":60000,'))).toBe(true);
  expect(lines.some((l) => l.includes('"seq":1,'))).toBe(false);
});

it('a write that fails (its directory gone) stops the capture, logged once; later records are ignored', async () => {
  const dir = path.join(root, 'gone');
  const errors: { obj: Record<string, unknown>; msg: string }[] = [];
  const cap = new Capture({ dir, node: 'n2', incarnation: 'n2.bb', sample: 1, maxBytes: 1_048_576, bodies: false, log: { error: (obj: Record<string, unknown>, msg: string) => errors.push({ obj, msg }), warn: () => {}, info: () => {} } as never });
  cap.node('start');
  await until(() => captureFiles(dir).length === 1, 'the first file written');
  rmSync(dir, { recursive: true, force: true });
  // past a quarter of CAPTURE_MAX_BYTES: the next file cannot be opened
  for (let i = 0; i < 8000; i++) cap.msg(conn, 'g:busy', i + 1, 'live');
  await until(() => cap.failure !== null, 'the capture failed');
  expect(cap.on).toBe(false);
  expect(cap.failure).toMatch(/^ENOENT/);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.msg).toMatch(/capture stopped/);
  expect(() => cap.msg(conn, 'g:busy', 1, 'live')).not.toThrow();
  expect(existsSync(dir)).toBe(false);
  await cap.stop('test');
});

// The server's send→sent latency (about a millisecond) is the difference of two records'
// monotonic times: a send and its answer are stamped at once, not with the stamp the first
// record of their wall-clock millisecond took.
it('a send and its answer carry their own monotonic time, within a wall-clock millisecond too', async () => {
  const dir = path.join(root, 'precise');
  const cap = new Capture({ dir, node: 'n3', incarnation: 'n3.cc', sample: 1, maxBytes: 1_048_576, bodies: false, log: { error: () => {}, warn: () => {}, info: () => {} } as never });
  const spin = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  let found = false;
  // a msg, then 0.25 ms later a send and 0.25 ms later its answer, all in one wall-clock
  // millisecond (tried again until a busy machine lets the three fit in one)
  for (let attempt = 0; attempt < 200 && !found; attempt++) {
    const w = Date.now();
    while (Date.now() === w);
    const start = Date.now();
    cap.msg(conn, 'g:busy', attempt + 1, 'live');
    spin(0.25);
    cap.inFrame(conn, { t: 'send', id: `s${attempt}`, conv: 'g:busy', cmid: `c${attempt}`, body: 'hi' } as never);
    spin(0.25);
    cap.out(conn, { t: 'sent', id: `s${attempt}`, conv: 'g:busy', seq: attempt + 1, cmid: `c${attempt}`, dup: false });
    found = Date.now() === start;
  }
  expect(found, 'three records within one wall-clock millisecond').toBe(true);
  await cap.stop('test');
  const recs = captureFiles(dir).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l) as { k: string; t?: string; m: number; w: number });
  const last = recs.filter((r) => r.k === 'out' && r.t === 'sent').at(-1)!;
  const i = recs.indexOf(last);
  const [msg, send, sent] = [recs[i - 2]!, recs[i - 1]!, last];
  expect([msg.t, send.t, sent.t]).toEqual(['msg', 'send', 'sent']);
  expect(sent.w).toBe(msg.w);
  // 0.25 ms apart, each read to the microsecond
  expect(send.m - msg.m).toBeGreaterThan(0.249);
  expect(sent.m - send.m).toBeGreaterThan(0.249);
  // to the microsecond, not the tenth: at 0.1 ms one step of a p50 of 1.3 ms is 7 %. Every
  // stamp of all the attempts on a tenth would be chance (about 10^-2n)
  const stamps = recs.filter((r) => r.k === 'in' || r.k === 'out').map((r) => r.m);
  expect(stamps.length).toBeGreaterThan(2);
  expect(stamps.some((m) => Math.abs(m * 10 - Math.round(m * 10)) > 1e-6), `stamps ${stamps.slice(-6).join(', ')}`).toBe(true);
});

it('an `open` written with its hello after the wall clock was set an hour back: its `w` is the connection\'s, beside the hello\'s, and its `m` on the monotonic clock', async () => {
  const dir = path.join(root, 'clock-step');
  // Date stepped by hand (vi.setSystemTime moves Date alone, as NTP or an operator steps the
  // wall clock); the monotonic clock (performance, util/clock.ts) runs on with the ticks
  vi.useFakeTimers({ toFake: ['Date', 'performance'] });
  try {
    vi.setSystemTime(1_800_000_000_000);
    const cap = new Capture({ dir, node: 'n3', incarnation: 'n3.cc', sample: 1, maxBytes: 1_048_576, bodies: false, log: { error: () => {}, warn: () => {}, info: () => {} } as never });
    vi.advanceTimersByTime(100);
    const c = { ...conn, id: 'n3.x.1', openedAt: monoNow() };
    vi.advanceTimersByTime(30);
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(20);
    cap.hello(c, []);
    vi.useRealTimers();
    await cap.stop('test');
    const recs = captureFiles(dir).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean)).map((l) => captureRecord.parse(JSON.parse(l)));
    const open = recs.find((r) => r.k === 'open')!;
    const hello = recs.find((r) => r.k === 'hello')!;
    expect(hello.w - open.w, 'the open timed an hour off its hello').toBe(50);
    expect(open.m).toBeCloseTo(100, 0);
    expect(hello.m).toBeCloseTo(150, 0);
  } finally {
    vi.useRealTimers();
  }
});
