import { z } from 'zod';

/**
 * A scenario's hostile clients (scenario field `attack`): when they start, how long they
 * may go on, and how much of each attack every node gets. Every loop stops at its count or
 * at `at + durationMs`, whichever comes first.
 */
export const attackSchema = z.object({
  /** ms after the load started */
  at: z.number().int().nonnegative(),
  /** no attack starts anything after at + durationMs; answers are awaited for at most 20 s more */
  durationMs: z.number().int().positive().max(600_000),
  /** fast-check protocol frames per node, in all (issue 8 asks ≥ 100k at full size) */
  protocolFrames: z.number().int().min(10).max(2_000_000),
  /** WebSocket sessions per node that send them */
  fuzzSessions: z.number().int().min(1).max(64).default(4),
  /** first frames that are not hello, per node */
  notHello: z.number().int().min(0).max(100_000).default(50),
  /** rounds of the bad tokens (12 kinds, each in hello, auth and HTTP) per node */
  tokenRounds: z.number().int().min(0).max(1000).default(2),
  /** rounds of upgrade/half-sent request resets (12 paths + 5 requests each) per node */
  resetRounds: z.number().int().min(0).max(100_000).default(20),
  /** slowloris, idle TCP and hello-less WebSocket sockets per node (each kind) */
  idleSockets: z.number().int().min(0).max(5000).default(5),
  /** rounds of frame abuse (ping flood, oversized, fragmented, binary, invalid UTF-8) per node */
  frameRounds: z.number().int().min(0).max(10_000).default(3),
  pingFlood: z.number().int().min(1).max(1_000_000).default(2000),
  historyClients: z.number().int().min(0).max(64).default(1),
  historyRequests: z.number().int().min(1).max(1_000_000).default(500),
  presenceClients: z.number().int().min(0).max(64).default(1),
  presenceRequests: z.number().int().min(1).max(100_000).default(50),
  /** how long the pipelining clients hold off reading */
  holdMs: z.number().int().min(0).max(60_000).default(3000),
  metricsScrapes: z.number().int().min(0).max(100_000).default(50),
  /** rounds of group spam per node (9 refused requests + a burst each) */
  groupRounds: z.number().int().min(0).max(10_000).default(3),
  /** HTTP fuzz requests per node */
  httpFuzz: z.number().int().min(0).max(1_000_000).default(300),
  /** POST /v1/messages bodies past the HTTP cap, per node */
  bigBodies: z.number().int().min(0).max(1000).default(2),
});
export type AttackParams = z.infer<typeof attackSchema>;
