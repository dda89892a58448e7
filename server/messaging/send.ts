import type { Config } from '../config/config.ts';
import type { RateBuckets } from '../gateway/rate.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ProtocolError } from '../protocol/codes.ts';
import { convForUser } from '../protocol/ids.ts';
import type { ConversationLog, SendResult } from '../store/log.ts';
import { monoNow } from '../util/clock.ts';

/**
 * How much bigger than MAX_BODY_BYTES a body may be in the form it is stored and pushed in
 * (its JSON string literal, quotes not counted). Every character JSON escapes in two bytes
 * (`\n`, `\t`, `"`, `\\`, a lone surrogate: 3 UTF-8 bytes as 6) stays within 2×, so any
 * text — code, quotes, line breaks — that fits MAX_BODY_BYTES is stored; only bodies made
 * mostly of the C0 control characters JSON writes as `\u00XX` (1 byte → 6) are refused.
 */
export const STORED_BODY_FACTOR = 2;

/** A body's stored size: the UTF-8 bytes of its JSON string literal without the quotes. */
function storedBodyBytes(bodyJson: string): number {
  return Buffer.byteLength(bodyJson) - 2;
}

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

  /** Rejects (never throws) with a ProtocolError for what it refuses. Not `async` itself: one promise a message, store()'s. */
  send(user: string, conv: string, cmid: string, body: string): Promise<SendResult> {
    const started = process.hrtime.bigint();
    let ref, bodyJson;
    try {
      ref = convForUser(conv, user);
      bodyJson = this.bodyAndToken(user, body);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.store(user, conv, ref, cmid, bodyJson, started);
  }

  /**
   * What send() checks before its store call — a dm's membership, the body's size, the user's
   * send bucket (a token taken) — for `POST /v1/messages`, whose request then waits for one of
   * the node's send slots: a request these refuse does not wait. Returns the body as JSON for
   * storeAdmitted().
   */
  admit(user: string, conv: string, body: string): string {
    convForUser(conv, user);
    return this.bodyAndToken(user, body);
  }

  /** The token admit() took, back: the node refused the send it admitted before its store call. */
  unadmit(user: string): void {
    this.buckets.giveBack(user, monoNow());
  }

  /** The store call of a send admit() passed. */
  async storeAdmitted(user: string, conv: string, cmid: string, bodyJson: string): Promise<SendResult> {
    return await this.store(user, conv, convForUser(conv, user), cmid, bodyJson, process.hrtime.bigint());
  }

  private bodyAndToken(user: string, body: string): string {
    const l = this.limits;
    // PROTOCOL.md sizes a body by its UTF-8 bytes; what Redis holds is its JSON text, which
    // escapes may make up to 6× larger, so that is bounded too (STORED_BODY_FACTOR).
    if (Buffer.byteLength(body) > l.MAX_BODY_BYTES) throw new ProtocolError('too_large', `body is over ${l.MAX_BODY_BYTES} bytes (MAX_BODY_BYTES)`);
    const bodyJson = JSON.stringify(body);
    const storedMax = STORED_BODY_FACTOR * l.MAX_BODY_BYTES;
    if (storedBodyBytes(bodyJson) > storedMax) {
      throw new ProtocolError('too_large', `body is over ${storedMax} bytes once JSON-escaped (${STORED_BODY_FACTOR} × MAX_BODY_BYTES; control characters take 6 bytes each)`);
    }
    if (!this.buckets.take(user, monoNow())) throw new ProtocolError('rate_limited', `over ${l.SEND_RATE} sends/s (burst ${l.SEND_BURST}); slow down and retry`);
    return bodyJson;
  }

  private async store(user: string, conv: string, ref: ReturnType<typeof convForUser>, cmid: string, bodyJson: string, started: bigint): Promise<SendResult> {
    const res = await this.log.send({ conv, isGroup: ref.kind === 'group', dmUsers: ref.kind === 'dm' ? [ref.a, ref.b] : [], sender: user, cmid, bodyJson });
    this.metrics.sends.inc({ dup: String(res.dup) });
    this.metrics.sendLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return res;
  }
}
