import { readdirSync } from 'node:fs';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import client from 'prom-client';
import { monoNow } from '../util/clock.ts';

/**
 * How often the expensive process gauges (open fds: a /proc/self/fd scan; active handles:
 * an enumeration of every libuv resource) are sampled. A scrape reads the last sample, so
 * scraping often — or an attacker scraping — costs no more than one scan per interval.
 */
export const PROCESS_SAMPLE_MS = 5000;

/** `fn()`, computed at most once per `everyMs` (the cached value in between); `refresh()` recomputes now. */
export function sampled<T>(fn: () => T, everyMs: number): { get(): T; refresh(): T } {
  let at = -Infinity;
  let value: T;
  const refresh = () => {
    at = monoNow();
    return (value = fn());
  };
  return { get: () => (monoNow() - at >= everyMs ? refresh() : value), refresh };
}

function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of process.getActiveResourcesInfo()) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * `nodejs_gc_duration_seconds` (prom-client's name, help, labels and buckets) counting every
 * collection. prom-client's own observer records only the first entry of each batch, and V8
 * hands over every collection of an event-loop turn in one batch: a busy node's counts came
 * out low exactly when it was backed up (review, 2026-12-05: 3 forced GCs in one turn read
 * as 1 minor). Its observer stays subscribed (prom-client cannot leave it out), writing into
 * a histogram no registry holds.
 */
function gcDurations(registry: client.Registry): void {
  registry.removeSingleMetric('nodejs_gc_duration_seconds');
  const h = new client.Histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers: [registry],
  });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind) h.observe({ kind }, e.duration / 1000);
    }
  }).observe({ entryTypes: ['gc'] });
}

const DELAY_RESOLUTION_MS = 10;
const DELAY_SLICE_MS = 250;
/** eight slices rolled and the one being filled: a stall stays in view at least 2 s */
const DELAY_SLICES = 9;

/**
 * The longest event-loop delay of the last two seconds, kept in slices the node rolls on its
 * own timer. imstorm_event_loop_lag_seconds is reset by whichever scrape reads it, so a
 * second scraper hides stalls from the first: the hostile scenario's /metrics attack took the
 * onset of its floods out of the harness's samples (windows of a few ms, read as 0,
 * 2026-12-07). Two seconds cover a 1 s sampler's interval, its jitter and one scrape that
 * timed out; a roll delayed by a stall makes its slice longer, never the window shorter.
 *
 * The collections an operator forces (POST /debug/gc, 50–100 ms under load, taken by the
 * harness's leak samples while no client is connected) are `excuse`d, so the gauge shows the
 * node's own stalls. Its histogram's timer has the p99 gauge's period and starts in the same
 * turn, so libuv runs both in one wake-up: a wake-up costs an idle node about 100 µs of CPU
 * on this kind of machine (a 10 ms JS timer of its own added 4–6 ms a second, 2026-12-07).
 * One per process, as the event loop is.
 */
class LoopStalls {
  private readonly h = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  /** ns */
  private readonly slices = new Array<number>(DELAY_SLICES).fill(0);
  private at = 0;

  constructor() {
    this.h.enable();
    setInterval(() => {
      this.fold();
      this.at = (this.at + 1) % DELAY_SLICES;
      this.slices[this.at] = 0;
    }, DELAY_SLICE_MS).unref();
  }

  /** the histogram's worst into the current slice; the reset also forgets when its timer last ran */
  private fold(): void {
    if (this.h.max > this.slices[this.at]!) this.slices[this.at] = this.h.max;
    this.h.reset();
  }

  /** ms; it includes the 10 ms timer period, as the lag gauge does */
  get worstMs(): number {
    return Math.max(this.h.max, ...this.slices) / 1e6;
  }

  /**
   * The turn running now stalls on purpose (a forced collection): after the reset the
   * histogram's timer has no previous run to measure this turn's delay from.
   */
  excuse(): void {
    this.fold();
  }
}

let loopStalls: LoopStalls | null = null;

/** The node's Prometheus series (PROTOCOL.md "GET /metrics"). */
export function createMetrics(sources: { connections: () => number; unsentBytes: () => number; channels: () => number; framesOut: () => number; connectionsOpened?: () => number; sends?: () => { inFlight: number; holds: number; held: number; waitingRequests: number } }) {
  const registry = new client.Registry();
  // Standard names (process_*, nodejs_*), so stock dashboards work.
  client.collectDefaultMetrics({ register: registry });
  // prom-client's own versions scan /proc/self/fd and enumerate every handle on each scrape;
  // ours below sample them at most once per PROCESS_SAMPLE_MS
  for (const name of ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_requests', 'nodejs_active_requests_total', 'nodejs_active_resources', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  gcDurations(registry);
  const openFds = sampled(countOpenFds, PROCESS_SAMPLE_MS);
  const resources = sampled(countResources, PROCESS_SAMPLE_MS);
  const lag = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  lag.enable();
  const stalls = (loopStalls ??= new LoopStalls());

  let reported = 0;
  let openedReported = 0;
  let holdsReported = 0;
  const counter = (name: string, help: string, labelNames: string[] = []) => new client.Counter({ name, help, labelNames, registers: [registry] });
  const m = {
    registry,
    /** fresh samples of the process gauges now (POST /debug/gc, whose caller wants exact numbers) */
    refreshProcessSamples(): void {
      openFds.refresh();
      resources.refresh();
    },
    /** the turn running now stalls on an operator's request (POST /debug/gc): not the node's own stall */
    excuseStall(): void {
      stalls.excuse();
    },
    framesIn: counter('imstorm_frames_in_total', 'WebSocket frames received'),
    framesOut: new client.Counter({
      name: 'imstorm_frames_out_total',
      help: 'WebSocket frames sent',
      registers: [registry],
      collect() {
        // counted on the hot path as a plain number; folded in at scrape time
        const now = sources.framesOut();
        this.inc(now - reported);
        reported = now;
      },
    }),
    connectionsOpened: new client.Counter({
      name: 'imstorm_connections_opened_total',
      help: 'WebSocket connections accepted (upgraded and admitted under MAX_CONNECTIONS) since the node started',
      registers: [registry],
      collect() {
        // the gateway counts them as a plain number (POST /debug/gc reads it too); folded in at scrape time
        const now = sources.connectionsOpened?.() ?? 0;
        this.inc(now - openedReported);
        openedReported = now;
      },
    }),
    sends: counter('imstorm_sends_total', 'messages stored (dup=false) and deduplicated (dup=true)', ['dup']),
    deliveries: counter('imstorm_deliveries_total', 'live msg frames pushed to connections'),
    acks: counter('imstorm_acks_total', 'ack frames received'),
    // a reconnect storm is judged by how fast the node takes connections back: upgrades, then handshakes
    welcomes: counter('imstorm_welcomes_total', 'handshakes completed: welcome sent'),
    errors: counter('imstorm_errors_total', 'error replies by code', ['code']),
    closes: counter('imstorm_closes_total', 'connections closed by the server, by close code', ['code']),
    gapFills: counter('imstorm_gap_fills_total', 'log reads that filled a hole in the bus'),
    slowConsumers: counter('imstorm_slow_consumers_total', 'connections cut for not reading'),
    resyncs: counter('imstorm_resyncs_total', 'bus resyncs (subscriber reconnect or stalled heartbeat)'),
    reclaimed: counter('imstorm_reclaimed_total', 'what the background reclaimer removed: conversations it trimmed or forgot something in, messages past RETENTION_MS, dedupe entries past DEDUPE_TTL_MS', ['what']),
    sendLatency: new client.Histogram({
      name: 'imstorm_send_latency_seconds',
      help: 'a send (WebSocket frame or POST /v1/messages) received → stored and answered',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    }),
  };
  new client.Gauge({ name: 'imstorm_connections', help: 'open WebSocket connections', registers: [registry], collect() { this.set(sources.connections()); } });
  new client.Gauge({ name: 'imstorm_unsent_bytes', help: 'bytes queued on all connections, not yet written to the socket', registers: [registry], collect() { this.set(sources.unsentBytes()); } });
  new client.Gauge({ name: 'imstorm_sends_in_flight', help: 'sends waiting for the store (at most MAX_SENDS_IN_FLIGHT)', registers: [registry], collect() { this.set(sources.sends?.().inFlight ?? 0); } });
  new client.Gauge({ name: 'imstorm_send_held_connections', help: 'connections whose next send waits for one of the MAX_SENDS_IN_FLIGHT slots (their sockets not read meanwhile)', registers: [registry], collect() { this.set(sources.sends?.().held ?? 0); } });
  new client.Gauge({ name: 'imstorm_send_waiting_requests', help: 'POST /v1/messages requests waiting for one of the MAX_SENDS_IN_FLIGHT slots (at most STORE_TIMEOUT_MS each)', registers: [registry], collect() { this.set(sources.sends?.().waitingRequests ?? 0); } });
  new client.Counter({
    name: 'imstorm_send_holds_total',
    help: 'times a connection or a POST /v1/messages request began to wait for one of the MAX_SENDS_IN_FLIGHT slots',
    registers: [registry],
    collect() {
      const now = sources.sends?.().holds ?? 0;
      this.inc(now - holdsReported);
      holdsReported = now;
    },
  });
  new client.Gauge({ name: 'imstorm_channels', help: 'conversations with local connections', registers: [registry], collect() { this.set(sources.channels()); } });
  new client.Gauge({
    name: 'imstorm_event_loop_lag_seconds',
    help: 'event-loop delay p99 over the last scrape interval',
    registers: [registry],
    collect() {
      this.set(lag.percentile(99) / 1e9);
      lag.reset();
    },
  });
  new client.Gauge({
    name: 'imstorm_event_loop_delay_max_seconds',
    help: `longest event-loop delay in at least the last ${((DELAY_SLICES - 1) * DELAY_SLICE_MS) / 1000} s, whoever scrapes and how often (it includes the 10 ms sampling period, as the lag gauge does)`,
    registers: [registry],
    collect() {
      this.set(stalls.worstMs / 1000);
    },
  });
  new client.Gauge({
    name: 'imstorm_open_fds',
    help: `open file descriptors of the process (sampled at most every ${PROCESS_SAMPLE_MS / 1000} s)`,
    registers: [registry],
    collect() {
      this.set(openFds.get());
    },
  });
  new client.Gauge({
    name: 'process_open_fds',
    help: `Number of open file descriptors (sampled at most every ${PROCESS_SAMPLE_MS / 1000} s).`,
    registers: [registry],
    collect() {
      this.set(openFds.get());
    },
  });
  new client.Gauge({
    name: 'imstorm_active_handles',
    help: `active libuv resources by type (sampled at most every ${PROCESS_SAMPLE_MS / 1000} s)`,
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, n] of resources.get()) this.set({ type }, n);
    },
  });
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
