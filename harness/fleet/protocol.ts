// IPC between the orchestrator and a fleet process (never through the Redis under test).
import type { DevicePlan, Workload } from './workload.ts';

export interface FleetInit {
  type: 'init';
  index: number;
  devices: DevicePlan[];
  /** WebSocket URLs; device i of this process uses urls[(offset + i) % urls.length] */
  urls: string[];
  urlOffset: number;
  /** source addresses to spread connections over (127.0.0.2, …); empty = the default */
  localAddresses: string[];
  jwtSecret: string;
  workload: Pick<Workload, 'bodyBytes' | 'ack' | 'reconnect' | 'failover' | 'cmids'> & Partial<Pick<Workload, 'stages'>>;
  factsPath: string;
  /** concurrent connects in flight (paces connect storms) */
  connectConcurrency: number;
}

export type OrchestratorCommand =
  | FleetInit
  | { type: 'connect' }
  | { type: 'load' }
  | { type: 'stopLoad' }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'resync' }
  | { type: 'finish' };

export interface FleetProgress {
  type: 'progress';
  index: number;
  at: number;
  open: number;
  synced: number;
  counts: Record<string, number>;
  /** p99 of send→sent over the last second, ms (null when nothing was answered) */
  sentP99: number | null;
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
}

export type FleetMessage =
  | FleetProgress
  | FleetDone
  | { type: 'ack'; index: number; of: OrchestratorCommand['type'] }
  | { type: 'fatal'; index: number; message: string };
