import { bandwidth } from './bandwidth.ts';
import { latency } from './latency.ts';
import { limitData } from './limit-data.ts';
import { noop } from './noop.ts';
import { resetPeer } from './reset-peer.ts';
import { slicer } from './slicer.ts';
import { slowClose } from './slow-close.ts';
import { timeout } from './timeout.ts';
import type { ToxicDefinition } from './toxic.ts';

export { NoopToxic } from './noop.ts';
export * from './toxic.ts';

/** Toxic types accepted by the API, keyed by their `type` name (Toxiproxy's toxics.Register). */
export const toxicRegistry: ReadonlyMap<string, ToxicDefinition> = new Map(
  [noop, latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData].map((d) => [d.type, d]),
);
