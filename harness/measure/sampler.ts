// The server sampler: every interval (default 1 s), GET /metrics of each node and INFO of
// Redis, into column time series. It never hangs on a dead or paused target: each scrape
// has a deadline, a target whose previous scrape is still running is skipped, and every
// miss is recorded as a gap (a null in each column, plus the reason).
import http from 'node:http';
import https from 'node:https';
import { Redis } from 'ioredis';
import { PromSnapshot } from './prometheus.ts';
import { infoNumber, parseRedisInfo } from './redis-info.ts';

export type SeriesUnit = 'count' | 'bytes' | 'ms' | 'per_s';

export interface SeriesInfo {
  unit: SeriesUnit;
  label: string;
}

interface NodeSeriesDef extends SeriesInfo {
  key: string;
  /** gauges are stored as read; counters as a per-second rate between samples */
  kind: 'gauge' | 'counter';
  read(p: PromSnapshot): number | undefined;
}

/** A counter family declared by the node but without samples yet (no label seen) counts 0. */
function counterSum(p: PromSnapshot, name: string, labels: Record<string, string> = {}): number | undefined {
  const v = p.sum(name, labels);
  if (v !== undefined) return v;
  return p.parsed.types[name.replace(/_total$/, '')] === 'counter' || p.parsed.types[name] === 'counter' ? 0 : undefined;
}

const secondsToMs = (v: number | undefined): number | undefined => (v === undefined ? undefined : v * 1000);

/** What is read from each node's /metrics (PROTOCOL.md "GET /metrics"). */
export const NODE_SERIES: readonly NodeSeriesDef[] = [
  { key: 'connections', kind: 'gauge', unit: 'count', label: 'open WebSocket connections', read: (p) => p.value('imstorm_connections') },
  { key: 'rssBytes', kind: 'gauge', unit: 'bytes', label: 'resident set size', read: (p) => p.value('process_resident_memory_bytes') },
  { key: 'heapUsedBytes', kind: 'gauge', unit: 'bytes', label: 'V8 heap in use', read: (p) => p.value('nodejs_heap_size_used_bytes') },
  { key: 'eventLoopLagMs', kind: 'gauge', unit: 'ms', label: 'event-loop delay p99 since the previous scrape', read: (p) => secondsToMs(p.value('imstorm_event_loop_lag_seconds')) },
  { key: 'eventLoopDelayMaxMs', kind: 'gauge', unit: 'ms', label: 'longest event-loop delay in (at least) the 2 s before the scrape (no other scraper resets it)', read: (p) => secondsToMs(p.value('imstorm_event_loop_delay_max_seconds')) },
  { key: 'openFds', kind: 'gauge', unit: 'count', label: 'open file descriptors', read: (p) => p.value('imstorm_open_fds') },
  { key: 'activeHandles', kind: 'gauge', unit: 'count', label: 'active libuv resources (all types)', read: (p) => p.sum('imstorm_active_handles') },
  { key: 'unsentBytes', kind: 'gauge', unit: 'bytes', label: 'unsent outbound bytes (all connections)', read: (p) => p.value('imstorm_unsent_bytes') },
  { key: 'channels', kind: 'gauge', unit: 'count', label: 'conversations with local connections', read: (p) => p.value('imstorm_channels') },
  { key: 'framesInPerSec', kind: 'counter', unit: 'per_s', label: 'frames received /s', read: (p) => counterSum(p, 'imstorm_frames_in_total') },
  { key: 'framesOutPerSec', kind: 'counter', unit: 'per_s', label: 'frames sent /s', read: (p) => counterSum(p, 'imstorm_frames_out_total') },
  { key: 'sendsPerSec', kind: 'counter', unit: 'per_s', label: 'messages stored /s', read: (p) => counterSum(p, 'imstorm_sends_total', { dup: 'false' }) },
  { key: 'dupSendsPerSec', kind: 'counter', unit: 'per_s', label: 'deduplicated sends /s', read: (p) => counterSum(p, 'imstorm_sends_total', { dup: 'true' }) },
  { key: 'deliveriesPerSec', kind: 'counter', unit: 'per_s', label: 'live msg frames pushed /s', read: (p) => counterSum(p, 'imstorm_deliveries_total') },
  { key: 'acksPerSec', kind: 'counter', unit: 'per_s', label: 'acks /s', read: (p) => counterSum(p, 'imstorm_acks_total') },
  { key: 'errorsPerSec', kind: 'counter', unit: 'per_s', label: 'error replies /s (all codes)', read: (p) => counterSum(p, 'imstorm_errors_total') },
  { key: 'acceptsPerSec', kind: 'counter', unit: 'per_s', label: 'WebSocket connections accepted /s', read: (p) => counterSum(p, 'imstorm_connections_opened_total') },
  { key: 'welcomesPerSec', kind: 'counter', unit: 'per_s', label: 'handshakes completed (welcome) /s', read: (p) => counterSum(p, 'imstorm_welcomes_total') },
  { key: 'closesPerSec', kind: 'counter', unit: 'per_s', label: 'server-side closes /s (all codes)', read: (p) => counterSum(p, 'imstorm_closes_total') },
  { key: 'slowConsumerClosesPerSec', kind: 'counter', unit: 'per_s', label: 'slow consumers closed 4413 /s', read: (p) => counterSum(p, 'imstorm_closes_total', { code: '4413' }) },
  { key: 'heartbeatClosesPerSec', kind: 'counter', unit: 'per_s', label: 'silent connections closed 4408 /s', read: (p) => counterSum(p, 'imstorm_closes_total', { code: '4408' }) },
  { key: 'gapFillsPerSec', kind: 'counter', unit: 'per_s', label: 'bus hole fills /s', read: (p) => counterSum(p, 'imstorm_gap_fills_total') },
  { key: 'resyncsPerSec', kind: 'counter', unit: 'per_s', label: 'bus resyncs /s', read: (p) => counterSum(p, 'imstorm_resyncs_total') },
];

/** What is read from Redis INFO. */
export const REDIS_SERIES: ReadonlyArray<SeriesInfo & { key: string; field: string }> = [
  { key: 'usedMemoryBytes', field: 'used_memory', unit: 'bytes', label: 'Redis used_memory' },
  { key: 'connectedClients', field: 'connected_clients', unit: 'count', label: 'Redis connected_clients' },
  { key: 'opsPerSec', field: 'instantaneous_ops_per_sec', unit: 'per_s', label: 'Redis instantaneous_ops_per_sec' },
];

/** Units and labels of every series key (dynamic `activeHandles.<type>` keys are counts). */
export function seriesInfo(key: string): SeriesInfo {
  const def = NODE_SERIES.find((d) => d.key === key) ?? REDIS_SERIES.find((d) => d.key === key);
  if (def) return { unit: def.unit, label: def.label };
  if (key.startsWith('activeHandles.')) return { unit: 'count', label: `active ${key.slice('activeHandles.'.length)} resources` };
  return { unit: 'count', label: key };
}

export interface TargetSamples {
  /** node id, or `redis` */
  target: string;
  kind: 'node' | 'redis';
  url: string;
  /** sample times (scrape start), ms since the epoch */
  t: number[];
  /** series key → value per sample; null where the scrape failed or the series was absent */
  values: Record<string, Array<number | null>>;
  /** failed scrapes: when and why */
  gaps: Array<{ t: number; error: string }>;
  /** counter series (…PerSec) → increase over the sampled period (counter resets handled) */
  totals: Record<string, number>;
}

export interface ServerSamples {
  intervalMs: number;
  startedAt: number;
  endedAt: number;
  targets: TargetSamples[];
}

export interface SamplerNode {
  id: string;
  /** base URL of the listener serving /metrics (the node's ADMIN_PORT one when it has one), e.g. http://127.0.0.1:8080 */
  url: string;
  /** sent as `Authorization: Bearer …` when the node has a METRICS_TOKEN */
  metricsToken?: string | undefined;
}

export interface ServerSamplerOptions {
  /** the nodes to scrape; a function is asked again at every tick (nodes added, restarted) */
  nodes: readonly SamplerNode[] | (() => readonly SamplerNode[]);
  /** Redis to read INFO from (a redis:// URL) */
  redisUrl?: string;
  intervalMs?: number;
  /** per-scrape deadline (default 80% of the interval) */
  timeoutMs?: number;
  /** largest /metrics body accepted (default 8 MiB) */
  maxBodyBytes?: number;
  now?: () => number;
}

class TargetRecorder {
  readonly data: TargetSamples;
  inFlight = false;
  private lastCounter = new Map<string, { t: number; v: number }>();

  constructor(target: string, kind: 'node' | 'redis', url: string) {
    // the known series exist from the start, so a target that never answered still has its (all-null) columns
    const keys = kind === 'node' ? NODE_SERIES.map((d) => d.key) : REDIS_SERIES.map((d) => d.key);
    this.data = { target, kind, url, t: [], values: Object.fromEntries(keys.map((k) => [k, []])), gaps: [], totals: {} };
  }

  private push(t: number, values: Record<string, number | undefined>): void {
    const n = this.data.t.length;
    this.data.t.push(t);
    for (const key of Object.keys(values)) {
      if (!(key in this.data.values)) this.data.values[key] = new Array<number | null>(n).fill(null);
    }
    for (const [key, col] of Object.entries(this.data.values)) {
      const v = values[key];
      col.push(v === undefined || !Number.isFinite(v) ? null : v);
    }
  }

  gap(t: number, error: string): void {
    this.push(t, {});
    this.data.gaps.push({ t, error });
  }

  gauges(t: number, values: Record<string, number | undefined>): void {
    this.push(t, values);
  }

  /** Turns counter readings into per-second rates since the previous good sample. */
  rate(key: string, t: number, v: number | undefined): number | undefined {
    if (v === undefined) return undefined;
    const prev = this.lastCounter.get(key);
    this.lastCounter.set(key, { t, v });
    if (!prev || t <= prev.t) return undefined;
    const increase = v >= prev.v ? v - prev.v : v; // a reset (node restart) starts from 0
    this.data.totals[key] = (this.data.totals[key] ?? 0) + increase;
    return Math.round((increase / ((t - prev.t) / 1000)) * 1000) / 1000;
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? e.message ?? String(err);
}

/** GET a URL with a hard deadline and a body cap; resolves with the status and text. */
function getText(url: string, agent: http.Agent, timeoutMs: number, maxBytes: number, bearer?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const headers: Record<string, string> = { accept: 'text/plain' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const req = lib.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new Error(`body over ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), { code: `timeout after ${timeoutMs} ms` })), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export class ServerSampler {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private readonly opts: ServerSamplerOptions;
  private readonly now: () => number;
  private readonly targets = new Map<string, TargetRecorder>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  private redis: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = new Set<Promise<void>>();
  private startedAt = 0;
  private endedAt = 0;
  private stopped = false;

  constructor(opts: ServerSamplerOptions) {
    this.opts = opts;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? Math.max(50, Math.floor(this.intervalMs * 0.8));
    this.now = opts.now ?? Date.now;
    if (opts.redisUrl) {
      this.redis = new Redis(opts.redisUrl, {
        lazyConnect: true,
        connectTimeout: this.timeoutMs,
        commandTimeout: this.timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        enableReadyCheck: false,
        retryStrategy: () => this.intervalMs,
        connectionName: 'imstorm-sampler',
      });
      this.redis.on('error', () => {
        // each failed INFO is recorded as a gap
      });
    }
  }

  private nodes(): readonly SamplerNode[] {
    return typeof this.opts.nodes === 'function' ? this.opts.nodes() : this.opts.nodes;
  }

  private recorder(target: string, kind: 'node' | 'redis', url: string): TargetRecorder {
    const key = `${kind}:${target}`;
    let r = this.targets.get(key);
    if (!r) {
      r = new TargetRecorder(target, kind, url);
      this.targets.set(key, r);
    }
    r.data.url = url;
    return r;
  }

  /** Starts sampling every interval, the first sample at once. Timers are unref'd. */
  start(): this {
    if (this.timer || this.stopped) return this;
    this.startedAt = this.now();
    if (this.redis) this.redis.connect().catch(() => {});
    const origin = Date.now();
    let k = 0;
    const tick = (): void => {
      if (this.stopped) return;
      this.track(this.sampleOnce());
      k++;
      this.timer = setTimeout(tick, Math.max(0, origin + k * this.intervalMs - Date.now()));
      this.timer.unref();
    };
    tick();
    return this;
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** One round: every node and Redis, concurrently; resolves when all answered or timed out. */
  async sampleOnce(): Promise<void> {
    if (!this.startedAt) this.startedAt = this.now();
    const t = this.now();
    const jobs: Array<Promise<void>> = [];
    for (const node of this.nodes()) jobs.push(this.guard(this.recorder(node.id, 'node', node.url), t, (r) => this.scrapeNode(r, node, t)));
    if (this.redis && this.opts.redisUrl) jobs.push(this.guard(this.recorder('redis', 'redis', this.opts.redisUrl), t, (r) => this.scrapeRedis(r, t)));
    await Promise.all(jobs);
    this.endedAt = this.now();
  }

  private async guard(r: TargetRecorder, t: number, scrape: (r: TargetRecorder) => Promise<void>): Promise<void> {
    if (r.inFlight) {
      r.gap(t, 'previous scrape still running');
      return;
    }
    r.inFlight = true;
    try {
      await scrape(r);
    } catch (err) {
      r.gap(t, describeError(err));
    } finally {
      r.inFlight = false;
    }
  }

  private async scrapeNode(r: TargetRecorder, node: SamplerNode, t: number): Promise<void> {
    const url = `${node.url.replace(/\/$/, '')}/metrics`;
    const agent = url.startsWith('https:') ? this.httpsAgent : this.agent;
    const res = await getText(url, agent, this.timeoutMs, this.opts.maxBodyBytes ?? 8 * 1024 * 1024, node.metricsToken);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const p = new PromSnapshot(res.text);
    if (p.parsed.samples.length === 0) throw new Error('no samples in /metrics');
    const values: Record<string, number | undefined> = {};
    for (const def of NODE_SERIES) {
      const v = def.read(p);
      values[def.key] = def.kind === 'counter' ? r.rate(def.key, t, v) : v;
    }
    for (const [type, n] of Object.entries(p.byLabel('imstorm_active_handles', 'type'))) values[`activeHandles.${type}`] = n;
    r.gauges(t, values);
  }

  /** Resolves once the link is ready, or rejects after `ms`. */
  private redisReady(redis: Redis, ms: number): Promise<void> {
    if (redis.status === 'ready') return Promise.resolve();
    if (redis.status === 'wait' || redis.status === 'end') redis.connect().catch(() => {});
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(new Error(`redis link ${redis.status} after ${ms} ms`));
      }, ms);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  }

  private async scrapeRedis(r: TargetRecorder, t: number): Promise<void> {
    const redis = this.redis!;
    const deadline = Date.now() + this.timeoutMs;
    await this.redisReady(redis, this.timeoutMs);
    // the whole scrape (link wait included) keeps to one timeout
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${this.timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    });
    let text: string;
    try {
      text = await Promise.race([redis.info(), late]);
    } finally {
      clearTimeout(timer);
    }
    const info = parseRedisInfo(text);
    const values: Record<string, number | undefined> = {};
    for (const def of REDIS_SERIES) values[def.key] = infoNumber(info, def.field);
    r.gauges(t, values);
  }

  /** What has been sampled so far (copies). */
  samples(): ServerSamples {
    return {
      intervalMs: this.intervalMs,
      startedAt: this.startedAt,
      endedAt: this.endedAt || this.startedAt,
      targets: [...this.targets.values()].map((r) => structuredClone(r.data)),
    };
  }

  /** Stops the timer, waits for scrapes in flight (each bounded by timeoutMs), closes links. */
  async stop(): Promise<ServerSamples> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.running]);
    this.agent.destroy();
    this.httpsAgent.destroy();
    this.redis?.disconnect();
    return this.samples();
  }
}
