// The fleet side of the live /metrics view (harness/live/metrics-server.ts): each fleet
// process keeps prom-client counters, gauges and histograms of what its devices do and
// hands a JSON snapshot to the orchestrator with every progress message. The orchestrator
// sums them (prom-client's AggregatorRegistry, as in cluster mode), so no fleet process
// opens a port of its own.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Fact } from '../model/facts.ts';
import { MemoryRecorder, type LatencyMetric } from '../fleet/recorder.ts';

/** One metric family as prom-client's getMetricsAsJSON gives it, without functions (IPC clones it). */
export interface MetricFamilyJSON {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/**
 * Seconds. From 1 ms (a send answered on an idle loopback) to 60 s (a device that waited out
 * a long outage with backoff): Prometheus interpolates inside a bucket, so the steps are
 * about ×2–2.5 where p50/p99 usually fall.
 */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The recorder's latency names → histogram names (all in seconds). */
export const LATENCY_HISTOGRAMS: Record<LatencyMetric, { name: string; help: string }> = {
  sent: { name: 'imstorm_send_sent_seconds', help: 'send→sent: from the intended send time (open loop) to the server\'s `sent` answer' },
  delivered: { name: 'imstorm_send_delivered_seconds', help: 'send→delivered: from the intended send time to a `msg` on a receiving device (live or backlog)' },
  connect: { name: 'imstorm_connect_seconds', help: 'TCP + WebSocket handshake of a device connection' },
  welcome: { name: 'imstorm_welcome_seconds', help: 'connect→welcome: from opening the connection to the server\'s `welcome`' },
  synced: { name: 'imstorm_synced_seconds', help: 'connect→synced of a device\'s first connection' },
  reconnect_synced: { name: 'imstorm_reconnect_synced_seconds', help: 'reconnect→synced: from opening a device\'s next connection to its `synced`' },
};

/** SimClient states, each a value of imstorm_connections{state} (0 included, so a panel never loses a line). */
const STATES = ['idle', 'connecting', 'open', 'backoff', 'replaced', 'failed', 'stopped'] as const;

export class FleetLiveMetrics {
  readonly registry = new Registry();
  private readonly connections = new Gauge({ name: 'imstorm_connections', help: 'simulated devices by connection state (open = welcomed; connecting = handshake or hello in flight; backoff = waiting to reconnect)', labelNames: ['state'], registers: [this.registry] });
  private readonly synced = new Gauge({ name: 'imstorm_devices_synced', help: 'devices open and synced', registers: [this.registry] });
  private readonly sends = new Counter({ name: 'imstorm_sends_total', help: 'sends by final outcome: sent, dup (a resend the server recognised), error (a final error answer), none (never answered by the end), never_written (no connection before the device gave up)', labelNames: ['outcome'], registers: [this.registry] });
  private readonly deliveries = new Counter({ name: 'imstorm_deliveries_total', help: 'messages received by devices, by path: live push, backlog replay after hello, history fill', labelNames: ['via'], registers: [this.registry] });
  private readonly errorAnswers = new Counter({ name: 'imstorm_error_answers_total', help: '`error` answers by code, every attempt counted (a retried send\'s too)', labelNames: ['code'], registers: [this.registry] });
  private readonly attempts = new Counter({ name: 'imstorm_connection_attempts_total', help: 'connections opened by devices (first connects and reconnects)', registers: [this.registry] });
  private readonly reconnects = new Counter({ name: 'imstorm_reconnects_total', help: 'connections opened by a device that had connected before', registers: [this.registry] });
  private readonly closes = new Counter({ name: 'imstorm_connection_closes_total', help: 'device connections closed, by WebSocket close code', labelNames: ['code'], registers: [this.registry] });
  private readonly badFrames = new Counter({ name: 'imstorm_bad_frames_total', help: 'frames from the server that PROTOCOL.md does not allow', registers: [this.registry] });
  private readonly histograms = new Map<string, Histogram>();
  /** devices that opened a connection before: their next one is a reconnect */
  private readonly connected = new Set<string>();

  constructor() {
    for (const [metric, h] of Object.entries(LATENCY_HISTOGRAMS)) this.histograms.set(metric, new Histogram({ name: h.name, help: `${h.help}, seconds`, buckets: LATENCY_BUCKETS, registers: [this.registry] }));
    // families with labels print nothing until a label is used: start the ones a panel sums
    for (const outcome of ['sent', 'dup', 'error', 'none', 'never_written']) this.sends.inc({ outcome }, 0);
    for (const via of ['live', 'backlog', 'history']) this.deliveries.inc({ via }, 0);
  }

  fact(f: Fact): void {
    if (f.k === 'send') this.sends.inc({ outcome: f.outcome });
    else if (f.k === 'recv') this.deliveries.inc({ via: f.via });
    else if (f.k === 'conn') {
      if (f.event === 'connect') {
        this.attempts.inc();
        if (this.connected.has(f.client)) this.reconnects.inc();
        else this.connected.add(f.client);
      } else if (f.event === 'close') this.closes.inc({ code: String(f.code ?? 'none') });
    }
  }

  latency(metric: LatencyMetric, ms: number): void {
    this.histograms.get(metric)?.observe(ms / 1000);
  }

  count(what: string, n: number): void {
    if (what.startsWith('error.')) this.errorAnswers.inc({ code: what.slice(6) }, n);
    else if (what === 'never_written') this.sends.inc({ outcome: 'never_written' }, n);
    else if (what === 'bad_frames') this.badFrames.inc(n);
  }

  /** Every family, with the connection gauges read from the devices now. */
  async snapshot(devices: Iterable<{ state: string; isSynced: boolean }>): Promise<MetricFamilyJSON[]> {
    const by = new Map<string, number>(STATES.map((s) => [s, 0]));
    let synced = 0;
    for (const d of devices) {
      by.set(d.state, (by.get(d.state) ?? 0) + 1);
      if (d.isSynced) synced++;
    }
    for (const [state, n] of by) this.connections.set({ state }, n);
    this.synced.set(synced);
    const families = await this.registry.getMetricsAsJSON();
    return families.map((m) => ({ name: m.name, help: m.help, type: String(m.type), aggregator: m.aggregator, values: m.values.map((v) => ({ ...v, labels: { ...v.labels } as Record<string, string | number> })) }));
  }
}

/**
 * The fleet process's recorder: everything MemoryRecorder keeps, and — once `live` is set
 * (the run serves /metrics) — the same events counted for the live view.
 */
export class LiveRecorder extends MemoryRecorder {
  live: FleetLiveMetrics | null = null;
  override fact(f: Fact): void {
    super.fact(f);
    this.live?.fact(f);
  }
  override latency(metric: LatencyMetric, ms: number): void {
    super.latency(metric, ms);
    this.live?.latency(metric, ms);
  }
  override count(what: string, n = 1): void {
    super.count(what, n);
    this.live?.count(what, n);
  }
}
