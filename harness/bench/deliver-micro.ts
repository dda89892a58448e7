/**
 * The delivery core's own CPU per live delivery: M messages through Hub.onMessage to R
 * connections caught up in one group, on the in-memory store, into sockets that drop what
 * they are given (no ws, no syscalls). For comparing the hub of two checkouts run one after
 * the other (ROOT: a checkout's directory, this one by default), which a busy machine
 * allows where `npm run bench:fanout` does not.
 *
 *   npx node harness/bench/deliver-micro.ts [ROOT] [R=1000] [M=3000]
 */
import path from 'node:path';
import { pino } from 'pino';
import { REPO_ROOT } from '../env/paths.ts';

const root = path.resolve(process.argv[2] ?? REPO_ROOT);
const R = Number(process.argv[3] ?? 1000);
const M = Number(process.argv[4] ?? 3000);
if (!Number.isInteger(R) || R < 2 || R > 100_000 || !Number.isInteger(M) || M < 1 || M > 1_000_000) {
  process.stderr.write('usage: npx node harness/bench/deliver-micro.ts [ROOT] [R: receivers, 2..100000] [M: messages, 1..1000000]\n');
  process.exit(2);
}
const { Hub } = await import(root + '/server/delivery/hub.ts');
const { Conn } = await import(root + '/server/gateway/connection.ts');
const { MemoryStore } = await import(root + '/server/store/memory/memory-store.ts');
const { MemoryBroker } = await import(root + '/server/store/memory/memory-bus.ts');
const { createMetrics } = await import(root + '/server/observability/metrics.ts');
const { encode } = await import(root + '/server/protocol/server-frames.ts');
const broker = new MemoryBroker({ auto: false });
const store = new MemoryStore(broker);
const members = Array.from({ length: R }, (_, i) => `u${i}`);
const conv = await store.createGroup('u0', 'g1', members);
const metrics = createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0 });
const hub = new Hub({ log: store, cursors: store, groups: store }, pino({ level: 'silent' }), metrics, { backlogLimit: 500, slowConsumerBytes: 1 << 20 });
let sent = 0;
for (let i = 0; i < R; i++) {
  const socket = { readyState: 1, bufferedAmount: 0, send() { sent++; }, close() {}, terminate() {}, ping() {}, pause() {}, resume() {} };
  const conn = new Conn(`c${i}`, socket, Date.now());
  conn.identity = { user: members[i]!, device: 'd', admin: false, expMs: Date.now() + 3_600_000 };
  conn.state = 'open';
  hub.addConn(conn);
  await hub.syncOnConnect(conn);
}
const epoch = (await store.heads([conv]))[0]!.epoch as string;
let seq = 0;
const body = JSON.stringify('a message body of some sixty-four bytes or so, as the bench sends');
const run = (n: number) => { for (let i = 0; i < n; i++) { seq++; hub.onMessage(conv, epoch, seq, encode.msg(conv, seq, 'u1', `c${seq}`, body, 1700000000000 + seq)); } };
run(500);
sent = 0;
const c0 = process.cpuUsage();
const t0 = performance.now();
run(M);
const cpu = process.cpuUsage(c0);
const wall = performance.now() - t0;
console.log(JSON.stringify({ root, R, M, deliveries: sent, cpuNsPerDelivery: +((cpu.user + cpu.system) * 1000 / sent).toFixed(1), wallMs: +wall.toFixed(0) }));
process.exit(0);
