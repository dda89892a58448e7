import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { ConversationLog } from '../store/log.ts';

/** Conversations one reclaim step takes (one claim, one pipeline of per-conversation scripts, one reschedule). */
export const RECLAIM_BATCH = 200;
/** The pause between steps while more conversations are due than one step takes: a backlog drains without holding Redis. */
export const RECLAIM_PAUSE_MS = 50;

/**
 * The background reclaimer: sends trim only the conversation they write to, so this is what
 * makes RETENTION_MS and DEDUPE_TTL_MS hold for conversations nobody writes to any more.
 * Every RECLAIM_INTERVAL_MS it reclaims up to RECLAIM_BATCH due conversations, and keeps
 * going (RECLAIM_PAUSE_MS apart) while more are due. Every node runs one; the log's claims
 * keep them from doing the same conversation twice.
 */
export class Reclaimer {
  private readonly log: ConversationLog;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  /** false while the store link is down: a step would only time out */
  private readonly storeUp: () => boolean;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private failing = false;

  constructor(log: ConversationLog, metrics: Metrics, logger: Logger, intervalMs: number, storeUp: () => boolean) {
    this.log = log;
    this.metrics = metrics;
    this.logger = logger;
    this.intervalMs = intervalMs;
    this.storeUp = storeUp;
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.step(), ms);
    this.timer.unref();
  }

  private async step(): Promise<void> {
    let more = false;
    try {
      if (this.storeUp()) {
        const r = await this.log.reclaim(RECLAIM_BATCH);
        this.metrics.reclaimed.inc({ what: 'conversations' }, r.conversations);
        this.metrics.reclaimed.inc({ what: 'messages' }, r.messages);
        this.metrics.reclaimed.inc({ what: 'dedupe_entries' }, r.dedupeEntries);
        more = r.more;
        if (this.failing) this.logger.info('reclaim steps succeed again');
        this.failing = false;
      }
    } catch (err) {
      // claimed conversations are taken up again after the claim's lease; log once per
      // outage, and not for the step that shutdown cut short
      if (!this.failing && !this.stopped) this.logger.warn({ err: String(err) }, 'reclaim step failed; retrying every RECLAIM_INTERVAL_MS');
      this.failing = true;
    }
    this.schedule(more ? RECLAIM_PAUSE_MS : this.intervalMs);
  }
}
