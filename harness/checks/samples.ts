/**
 * Server samples the leak checker reads (guarantee 5). harness/measure fills them from each
 * node's /metrics (and DEBUG_ROUTES) and Redis; the checker only compares them.
 */

/** One reading of one server node. */
export interface ServerSample {
  /** ms since the Unix epoch, harness clock */
  at: number;
  /** NODE_ID of the node */
  node: string;
  /** the node's open-connection gauge */
  connections: number;
  /** the process's open file descriptors */
  openFds: number;
  /** heap in use (bytes) right after forced GCs */
  heapUsedAfterGc: number;
  /** active libuv handles by type (e.g. Socket, Timeout, TCPServerWrap) */
  activeHandles: Record<string, number>;
  /** WebSocket connections the node admitted since it started (imstorm_connections_opened_total); absent from older servers */
  connectionsOpened?: number;
  /** resident set size (bytes) at the sample, after the GCs */
  rssBytes?: number;
  /**
   * read from /metrics alone (a target without debug routes): no forced GC, fds and handles
   * as the server last sampled them, with the reader's own sockets: only `connections` is judged
   */
  gaugeOnly?: true;
}

/** Redis keys that still name connections that are gone, read once every client left. */
export interface GoneKeysSample {
  at: number;
  count: number;
  examples?: readonly string[];
}

/** What the leak checker compares; every field but `baseline` and `after` is optional. */
export interface LeakInput {
  /** one sample per node before any client connected */
  baseline: readonly ServerSample[];
  /** one sample per node after every client left */
  after: readonly ServerSample[];
  /**
   * Redis keys still naming connections that are gone (connection registrations, presence
   * entries of closed connections): how many, and a few of them for the witness.
   */
  goneConnectionKeys?: GoneKeysSample;
  /**
   * Post-run samples of repeated identical runs, in run order (run 1, run 2, …), any
   * nodes: the heap series per node must not rise monotonically beyond the tolerance.
   */
  runs?: readonly (readonly ServerSample[])[];
}

/** A line a server node wrote (or its exit, stream `exit`): the witness of a node that exited by itself. */
export interface NodeLogLine {
  node: string;
  at: number;
  stream: string;
  text: string;
}

/** How fast a node closed the connections of clients that vanished without a FIN (a blackholed client link). */
export interface ReclaimSample {
  /** client-link:node-N, or fleet-process:node-N (a frozen fleet process) */
  link: string;
  /** what made the clients vanish, for the witness (default: `<link> was blackholed`) */
  cause?: string;
  /** NODE_ID behind the link */
  node: string;
  /** when the blackhole began */
  start: number;
  /** start + the scenario's bound */
  deadline: number;
  /** the node's open connections when the blackhole began */
  connectionsAtStart: number;
  /** when its gauge first read 0 (read every 100 ms; undefined: a reading at or after the deadline was above 0) */
  reclaimedAt?: number;
  /** its gauge at the deadline (or when it read 0) */
  connectionsAtDeadline: number;
}
