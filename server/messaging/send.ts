import type { Config } from '../config/config.ts';
import type { RateBuckets } from '../gateway/rate.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ProtocolError } from '../protocol/codes.ts';
import { convForUser } from '../protocol/ids.ts';
import type { ConversationLog, SendResult } from '../store/log.ts';

/**
 * Sending a message, the one way both the WebSocket `send` and `POST /v1/messages` take:
 * membership (a dm's from its id; a group's in the store, atomically), body size, the
 * user's send bucket, then the log's atomic store-and-publish.
 */
export class MessageSender {
  private readonly log: ConversationLog;
  private readonly buckets: RateBuckets;
  private readonly metrics: Metrics;
  private readonly limits: Pick<Config, 'MAX_BODY_BYTES' | 'SEND_RATE' | 'SEND_BURST'>;

  constructor(log: ConversationLog, buckets: RateBuckets, metrics: Metrics, limits: Pick<Config, 'MAX_BODY_BYTES' | 'SEND_RATE' | 'SEND_BURST'>) {
    this.log = log;
    this.buckets = buckets;
    this.metrics = metrics;
    this.limits = limits;
  }

  async send(user: string, conv: string, cmid: string, body: string): Promise<SendResult> {
    const started = process.hrtime.bigint();
    const ref = convForUser(conv, user);
    const l = this.limits;
    if (Buffer.byteLength(body) > l.MAX_BODY_BYTES) throw new ProtocolError('too_large', `body is over ${l.MAX_BODY_BYTES} bytes`);
    if (!this.buckets.take(user, Date.now())) throw new ProtocolError('rate_limited', `over ${l.SEND_RATE} sends/s (burst ${l.SEND_BURST}); slow down and retry`);
    const res = await this.log.send({ conv, isGroup: ref.kind === 'group', dmUsers: ref.kind === 'dm' ? [ref.a, ref.b] : [], sender: user, cmid, bodyJson: JSON.stringify(body) });
    this.metrics.sends.inc({ dup: String(res.dup) });
    this.metrics.sendLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return res;
  }
}
