// Redis memory per stored message: stores N messages through the server's own send
// script into a fresh redis-server, in one conversation and spread over many, and prints
// used_memory growth per message (dedupe entries and per-conversation keys included).
//   npm run bench:store [-- --messages 20000 --body 64]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisProcess } from '../env/redis-process.ts';
import { RedisConversationLog } from '../../server/store/redis/redis-log.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, body: { type: 'string', default: '64' } } });
const N = Number(values.messages);
const bodyChars = Number(values.body);
if (!Number.isInteger(N) || N < 100 || N > 1_000_000 || !Number.isInteger(bodyChars) || bodyChars < 1 || bodyChars > 65536) {
  process.stderr.write('usage: npm run bench:store -- [--messages 100..1000000] [--body 1..65536 characters]\n');
  process.exit(2);
}
const redis = await startRedisProcess({});
const cmd = new Redis(redis.url);
try {
  const used = async () => Number(/used_memory:(\d+)/.exec(await cmd.info('memory'))![1]);
  const log = new RedisConversationLog(cmd, { retentionMaxMsgs: N, retentionMs: 30 * 86_400_000, dedupeTtlMs: 86_400_000 });
  const bodyJson = JSON.stringify('x'.repeat(bodyChars));
  for (const convs of [1, Math.max(1, Math.floor(N / 20))]) {
    const before = await used();
    for (let i = 0; i < N; i++) {
      const peer = `peer${convs}x${i % convs}`;
      await log.send({ conv: `dm:alice:${peer}`, isGroup: false, dmUsers: ['alice', peer], sender: 'alice', cmid: `cmid-${convs}-${i}`, bodyJson });
    }
    const perMsg = (await used() - before) / N;
    console.log(`[store] ${N} messages of ${bodyChars} characters in ${convs} conversation(s): ${perMsg.toFixed(0)} bytes of Redis memory per message`);
  }
} finally {
  cmd.disconnect();
  await redis.cleanup();
}
