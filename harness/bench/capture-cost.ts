// What capture costs per record on this machine, in-process: N `msg` records (one per
// delivery) and N inbound `ack` records through a real Capture writing real files, timed
// by process CPU (user + system, the writes' threadpool included). The figure to set
// beside bench:fanout's server CPU µs per delivery.
//   npx node harness/bench/capture-cost.ts [records]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Capture } from '../../server/capture/capture.ts';

const N = Number(process.argv[2] ?? 200_000);
if (!Number.isInteger(N) || N < 1000 || N > 10_000_000) {
  process.stderr.write('usage: npx node harness/bench/capture-cost.ts [records: 1000..10000000, default 200000]\n');
  process.exit(2);
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-capture-cost-'));
const log = { error: (...a: unknown[]) => console.error(...a), warn: () => {}, info: () => {} };
const cap = new Capture({ dir, node: 'bench', incarnation: 'bench.0', sample: 1, maxBytes: 1 << 30, bodies: false, log: log as never });
const conn = { id: 'bench.4f3a9c21.1x9', openedAt: performance.now(), user: 'u123', device: 'd0', captured: true, isOpen: true };

async function timed(what: string, one: (i: number) => void): Promise<void> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    one(i);
    // let the writes run as they would between a node's event-loop turns
    if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
  }
  while (cap.on && !cap.idle) { cap.flush(); await new Promise((r) => setTimeout(r, 5)); }
  const c = process.cpuUsage(c0);
  console.log(`${what}: ${((c.user + c.system) / N).toFixed(2)} µs CPU per record (${N} records)`);
}

await timed('msg (one per delivery)', (i) => cap.msg(conn, 'g:bench-group-17', i + 1, 'live'));
await timed('in ack', (i) => cap.inFrame(conn, { t: 'ack', conv: 'g:bench-group-17', seq: i + 1 }));
await timed('in send (body hashed)', (i) => cap.inFrame(conn, { t: 'send', id: `s${i}`, conv: 'g:bench-group-17', cmid: `u123.d0.${i}`, body: '{"i":1764633600000,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' }));
await cap.stop('bench');
rmSync(dir, { recursive: true, force: true });
