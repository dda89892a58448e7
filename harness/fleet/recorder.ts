import type { Fact, SendFact } from '../model/facts.ts';

/** Latencies a fleet measures, in ms; wired to HDR histograms by the fleet process. */
export type LatencyMetric = 'connect' | 'welcome' | 'synced' | 'reconnect_synced' | 'sent' | 'delivered';

export interface Recorder {
  fact(f: Fact): void;
  latency(metric: LatencyMetric, ms: number): void;
  /** per-second counters for throughput series */
  count(what: 'sent' | 'delivered' | 'errors' | 'connects' | 'closes', n?: number): void;
}

/** Keeps facts in memory (the fleet process writes them out at the end). */
export class MemoryRecorder implements Recorder {
  readonly facts: Fact[] = [];
  readonly latencies = new Map<LatencyMetric, number[]>();
  readonly counts = new Map<string, number>();
  fact(f: Fact): void {
    this.facts.push(f);
  }
  latency(metric: LatencyMetric, ms: number): void {
    let a = this.latencies.get(metric);
    if (!a) this.latencies.set(metric, (a = []));
    a.push(ms);
  }
  count(what: string, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }
  sends(): SendFact[] {
    return this.facts.filter((f): f is SendFact => f.k === 'send');
  }
}
