// IPC between the orchestrator and a fleet process (never through the Redis under test).
import type { MetricFamilyJSON } from '../live/fleet-metrics.ts';
import type { DevicePlan, Workload } from './workload.ts';

export interface FleetInit {
  type: 'init';
  index: number;
  devices: DevicePlan[];
  /** WebSocket URLs; device i of this process uses urls[(offset + i) % urls.length] */
  urls: string[];
  urlOffset: number;
  /** each device's index in the whole fleet, when this process's devices are not contiguous (Fleet option perNode): device i uses urls[indexes[i] % urls.length] */
  indexes?: number[];
  /** source addresses to spread connections over (127.0.0.2, …); empty = the default */
  localAddresses: string[];
  jwtSecret: string;
  workload: Pick<Workload, 'bodyBytes' | 'ack' | 'reconnect' | 'failover' | 'cmids'> & Partial<Pick<Workload, 'stages'>>;
  factsPath: string;
  /** concurrent connects in flight (paces connect storms) */
  connectConcurrency: number;
  /** the run serves /metrics: count for it and send a snapshot with every progress (harness/live) */
  liveMetrics?: boolean;
}

export type OrchestratorCommand =
  | FleetInit
  | { type: 'connect' }
  | { type: 'load' }
  | { type: 'stopLoad' }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'resync' }
  | { type: 'finish' }
  /** an in-flight window: every device connected to `node` (undefined: any) records what it has at risk */
  | { type: 'window'; id: string; fault: string; node?: string }
  /** this process was frozen (fault step fleet-pause) from `at` to `end`: every device records a `freeze` stall (no ack) */
  | { type: 'frozen'; at: number; end: number };

/** A fleet process's share of an in-flight window. */
export interface WindowCounts {
  /** devices connected to the window's node */
  connected: number;
  /** of them, devices with something at risk */
  atRisk: number;
  /** sends written and not answered */
  sends: number;
  /** messages held above the last ack written */
  unacked: number;
}

export interface FleetProgress {
  type: 'progress';
  index: number;
  at: number;
  open: number;
  synced: number;
  counts: Record<string, number>;
  /** p99 of send→sent over the last second, ms (null when nothing was answered) */
  sentP99: number | null;
  /** with liveMetrics: this process's metric families (cumulative) */
  metrics?: MetricFamilyJSON[];
}

export interface FleetDone {
  type: 'done';
  index: number;
  factsPath: string;
  facts: number;
  latencies: Record<string, number[]>;
  counts: Record<string, number>;
  /** harness memory per simulated client (bytes of RSS) */
  rssPerClient: number;
  /**
   * The process's RSS before its devices existed and when `finish` arrived (devices still
   * connected), each after a full GC, bytes: their difference is what the devices hold, without the runtime's own
   * RSS that rssPerClient spreads over them. The same for the JS heap (heapUsed) and for
   * V8's young generation (util/gc.ts youngGenerationBytes).
   */
  rss: { base: number; atFinish: number; clients: number; baseHeap: number; atFinishHeap: number; baseYoung: number; atFinishYoung: number };
  /** with liveMetrics: the final metric families, sends never answered included */
  metrics?: MetricFamilyJSON[];
}

export type FleetMessage =
  | FleetProgress
  | FleetDone
  | { type: 'ack'; index: number; of: OrchestratorCommand['type'] }
  | { type: 'fatal'; index: number; message: string }
  | ({ type: 'windowed'; index: number; id: string } & WindowCounts);
