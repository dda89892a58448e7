import type { Fact, SendFact } from '../model/facts.ts';
import { LatencyRecorder } from '../measure/latency.ts';

/** Latencies a fleet measures, in ms; wired to HDR histograms by the fleet process. */
export type LatencyMetric = 'connect' | 'welcome' | 'synced' | 'reconnect_synced' | 'sent' | 'delivered';

export interface Recorder {
  fact(f: Fact): void;
  latency(metric: LatencyMetric, ms: number): void;
  /** per-second counters for throughput series */
  count(what: 'sent' | 'delivered' | 'errors' | 'connects' | 'welcomes' | 'closes' | 'never_written' | 'bad_frames' | 'liveness_timeouts' | 'replaces' | 'refused_4429' | `replaced_closes.${number}` | `error.${string}` | `replay_${string}`, n?: number): void;
}

/**
 * Keeps facts in memory until the fleet process ships them (fact-stream.ts). Latencies that
 * facts cannot give (connect) go into an HdrHistogram, mergeable across fleet processes;
 * send→sent only for the live progress window, since the report derives it from the facts.
 */
export class MemoryRecorder implements Recorder {
  readonly facts: Fact[] = [];
  /** connect (TCP + WebSocket upgrade) times, ms */
  readonly connect = new LatencyRecorder();
  readonly counts = new Map<string, number>();
  private window: number[] = [];
  fact(f: Fact): void {
    this.facts.push(f);
  }
  latency(metric: LatencyMetric, ms: number): void {
    if (metric === 'sent') {
      this.window.push(ms);
      return;
    }
    if (metric === 'connect') this.connect.record(ms);
  }
  /** p99 of send→sent since the last call (null when nothing was answered) */
  takeWindowP99(): number | null {
    const w = this.window;
    this.window = [];
    if (!w.length) return null;
    w.sort((a, b) => a - b);
    return w[Math.min(w.length - 1, Math.floor(w.length * 0.99))]!;
  }
  count(what: string, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }
  sends(): SendFact[] {
    return this.facts.filter((f): f is SendFact => f.k === 'send');
  }
}
