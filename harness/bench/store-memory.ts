// Redis memory per stored message: stores messages through the server's own send script
// into a fresh redis-server and prints used_memory growth per message — dedupe entries,
// per-conversation keys (users' indexes, the reclaim index) included — for each body size:
// in one conversation, spread 20 a conversation over many dms, one a conversation (at most
// 2000 of them), and, in one conversation, trimmed by retention at once while their dedupe
// entries wait for DEDUPE_TTL_MS. Then what the background reclaimer gives back: 10,000
// one-message dms left alone past RETENTION_MS and DEDUPE_TTL_MS (1 s each), reclaimed in
// steps of RECLAIM_BATCH as a node does, with the time it took.
//   npm run bench:store [-- --messages 20000 --body 100,16384]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisProcess } from '../env/redis-process.ts';
import { RECLAIM_BATCH } from '../../server/messaging/reclaimer.ts';
import { RedisConversationLog } from '../../server/store/redis/redis-log.ts';
import { sleep } from '../env/procs.ts';

/** Bodies stored per body size at most: big bodies get fewer messages, so a run stays near this. */
const BYTES_PER_RUN = 48 << 20;

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, body: { type: 'string', default: '100,16384' } } });
const most = Number(values.messages);
const bodies = values.body.split(',').map(Number);
if (!Number.isInteger(most) || most < 100 || most > 1_000_000 || !bodies.every((b) => Number.isInteger(b) && b >= 1 && b <= 65536)) {
  process.stderr.write('usage: npm run bench:store -- [--messages 100..1000000] [--body <bytes 1..65536>[,<bytes>...]]\n');
  process.exit(2);
}
const redis = await startRedisProcess({});
const cmd = new Redis(redis.url);
const used = async () => Number(/used_memory:(\d+)/.exec(await cmd.info('memory'))![1]);
const day = 86_400_000;
const kept = new RedisConversationLog(cmd, { retentionMaxMsgs: 1_000_000, retentionMs: 30 * day, dedupeTtlMs: day });
const trimmedAtOnce = new RedisConversationLog(cmd, { retentionMaxMsgs: 1, retentionMs: 30 * day, dedupeTtlMs: day });
/** Conversations one layout may open: a stream's first node takes about 4 KiB however little it holds. */
const MOST_CONVERSATIONS = 2000;
const layouts = [
  { label: 'in one conversation', log: kept, perConv: Infinity, stored: true },
  { label: '20 a conversation', log: kept, perConv: 20, stored: true },
  { label: 'one a conversation (each a dm\'s first message)', log: kept, perConv: 1, stored: true },
  { label: 'trimmed by retention at once, dedupe entries kept', log: trimmedAtOnce, perConv: Infinity, stored: false },
];
let run = 0;
try {
  for (const bodyBytes of bodies) {
    const count = Math.min(most, Math.max(100, Math.floor(BYTES_PER_RUN / bodyBytes)));
    const bodyJson = JSON.stringify('x'.repeat(bodyBytes));
    for (const { label, log, perConv, stored } of layouts) {
      run++;
      const n = Math.min(count, perConv * MOST_CONVERSATIONS);
      const before = await used();
      for (let i = 0; i < n; i++) {
        const peer = `peer${run}x${Number.isFinite(perConv) ? Math.floor(i / perConv) : 0}`;
        await log.send({ conv: `dm:alice:${peer}`, isGroup: false, dmUsers: ['alice', peer], sender: 'alice', cmid: `cmid-${run}-${i}`, bodyJson });
      }
      const perMsg = ((await used()) - before) / n;
      const beyond = stored ? ` (${(perMsg - bodyBytes).toFixed(0)} beyond the body)` : '';
      console.log(`[store] ${n} messages, ${bodyBytes}-byte bodies, ${label}: ${perMsg.toFixed(0)} bytes of Redis memory per message${beyond}`);
    }
  }
  await reclaimed(10_000);
} finally {
  cmd.disconnect();
  await redis.cleanup();
}

/** Idle dms reclaimed: Redis memory each before and after, and how long the steps took. */
async function reclaimed(dms: number): Promise<void> {
  // another database, so this log's 1 s limits meet none of the conversations above
  const db = new Redis(redis.url, { db: 1 });
  try {
    const log = new RedisConversationLog(db, { retentionMaxMsgs: 1000, retentionMs: 1000, dedupeTtlMs: 1000 });
    const before = await used();
    for (let i = 0; i < dms; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, dms - i) }, (_, j) => log.send({ conv: `dm:bob:idle${i + j}`, isGroup: false, dmUsers: ['bob', `idle${i + j}`], sender: 'bob', cmid: 'c', bodyJson: JSON.stringify('x'.repeat(100)) })));
    }
    const stored = await used();
    await sleep(1100);
    const started = Date.now();
    let steps = 0;
    let longest = 0;
    let messages = 0;
    for (let more = true; more; steps++) {
      const at = Date.now();
      const r = await log.reclaim(RECLAIM_BATCH);
      longest = Math.max(longest, Date.now() - at);
      messages += r.messages;
      more = r.more;
    }
    const took = Date.now() - started;
    const per = (bytes: number) => ((bytes - before) / dms).toFixed(0);
    console.log(`[reclaim] ${dms} idle dms of one 100-byte message: ${per(stored)} bytes of Redis memory each stored, ${per(await used())} after the reclaimer (${messages} messages in ${steps} steps of ${RECLAIM_BATCH}, ${took} ms, longest step ${longest} ms)`);
  } finally {
    db.disconnect();
  }
}
