import type { PresenceStatus } from '../protocol/server-frames.ts';

/**
 * Presence: node leases, connection registrations under them, and status transitions.
 * Redis implementation: redis/redis-presence.ts; in-memory: memory/memory-store.ts.
 *
 * Contract: a user is online while at least one registration of it exists. Every status
 * transition is decided atomically with the registration change that causes it, stamps a
 * `v` above every earlier `v` of that user and never below the store's clock in ms (so it
 * keeps rising across a store restart), and publishes the `p` bus payload with it. A
 * registration names the node incarnation and its lease generation; a lease that lapsed
 * and is renewed starts a new generation. Errors: ProtocolError `unavailable` when the
 * store did not confirm (the change may or may not have happened).
 */
export interface PresenceStore {
  /**
   * Registers a connection under `lease` (its node's incarnation and generation).
   * `hello`: replaces the device's older connections (removed, announced with the `k`
   * bus payload for 4409, returned) and refuses beyond `maxDevices` other devices (null).
   * `reregister`: re-writes a live connection after the lease lapsed; never refuses for the
   * device count, but writes nothing and answers null when another connection of the same
   * device is registered (it registered while this one was swept: this one was replaced).
   * The incarnation's registry is written first, so a sweeper always finds it.
   */
  openConn(reg: Registration, maxDevices: number, mode: 'hello' | 'reregister'): Promise<string[] | null>;
  /** Removes a registration (idempotent); the user goes offline with its last one. */
  closeConn(user: string, connId: string, incarnation: string): Promise<void>;
  /** The user's registered connections: connection id → device. */
  registrations(user: string): Promise<Map<string, string>>;
  /** Current status per user, in order. */
  presence(users: readonly string[]): Promise<PresenceState[]>;
  /**
   * Renews the incarnation's lease for ttlMs; held: false means it had lapsed (a new generation
   * began). A new generation never equals an earlier one of the incarnation, also one a sweep
   * forgot: a renewal that finds the lease held under a generation other than the last one
   * it was told of missed a lapse whose answer was lost.
   */
  renewLease(incarnation: string, ttlMs: number): Promise<{ held: boolean; generation: number }>;
  /** Up to `limit` incarnations whose lease has expired. */
  expiredLeases(limit: number): Promise<string[]>;
  /**
   * Takes a dead incarnation's connections offline; returns how many. Safe to run on
   * several nodes at once (a claim keeps them from doing the work twice) and against a
   * node that comes back meanwhile: only registrations of the lapsed generation go.
   */
  sweepIncarnation(dead: string, sweeper: string): Promise<number>;
  /** Forgets an incarnation's lease and registry (clean shutdown, after closing its connections). */
  dropLease(incarnation: string): Promise<void>;
}

export interface Registration {
  user: string;
  connId: string;
  device: string;
  incarnation: string;
  generation: number;
}

export interface PresenceState {
  status: PresenceStatus;
  v: number;
  ts: number;
}
