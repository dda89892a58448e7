// The guarantees a run is judged on: one name per checker (harness/checks), in the order
// reports list them, with the words reports show for each.

/** The five guarantees of PROTOCOL.md, the first split into its safety and liveness halves and its privacy (no message to a non-member), and leaks; and no node exiting by itself; under attack (scenario `hostile`), the answers to bad input and the keys refused requests leave. */
export const GUARANTEES = ['lost', 'unexpected', 'unseen', 'duplicate', 'order', 'presence', 'leaks', 'reclaim', 'slow', 'inflight', 'nodes', 'answers', 'residue'] as const;
export type Guarantee = (typeof GUARANTEES)[number];

export const GUARANTEE_TITLES: Record<Guarantee, string> = {
  lost: 'No acked message is lost',
  unexpected: 'No message reaches a device whose user was not a member',
  unseen: 'Connected devices receive live once faults heal',
  duplicate: 'Idempotent sends, no repeats on a connection',
  order: 'Per-connection order: no holes, no repeats',
  presence: 'Presence converges',
  leaks: 'No leaks (connections, fds, heap, handles, keys)',
  reclaim: 'Half-open connections are reclaimed in time',
  slow: 'Readers that fall behind are cut, not buffered for',
  inflight: 'What was in flight at each fault is recovered',
  nodes: 'No node exits unless the scenario stops it',
  answers: 'Every bad input gets the answer PROTOCOL.md defines',
  residue: 'Refused requests leave no Redis keys',
};
