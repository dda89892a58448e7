/**
 * Keys the hot scripts' callers write to Redis from their parts, never building the string
 * (resp-batch.ts strOf; issue 10): a conversation's are `c:{` + conv + a suffix here,
 * a device's cursors `u:{` + user + `}:cur:` + device. `keys` below builds those keys from
 * them too, so both spellings are one.
 */
export const keyParts = {
  conv: 'c:{',
  meta: '}:m',
  log: '}:l',
  dedupe: '}:d',
  dedupeOrphans: '}:dx',
  members: '}:mem',
  cursorsUser: 'u:{',
  cursorsDevice: '}:cur:',
} as const;
const P = keyParts;

/**
 * Redis key layout. Hash tags keep everything about a conversation in one slot
 * (`{<conv>}`) and everything about a user in another (`{<user>}`), so every script
 * touches one slot and the layout works unchanged on Redis Cluster.
 */
export const keys = {
  /** hash: epoch, head, tlow (last trimmed seq), ddlow/ddnext (dedupe expiry mark), dxnext (oldest orphan), tnext, rx (1: in the reclaim index), owner, jc, created */
  meta: (conv: string) => `${P.conv}${conv}${P.meta}`,
  /** stream: entry id `<seq>-0`, fields f (from), m (cmid), b (body as a JSON string literal), t (ts) */
  log: (conv: string) => `${P.conv}${conv}${P.log}`,
  /** hash: `<sender>\n<cmid>` → `<seq>:<ts>` */
  dedupe: (conv: string) => `${P.conv}${conv}${P.dedupe}`,
  /** sorted set: dedupe entries of trimmed messages until they expire; score ts, member `<seq>\n<sender>\n<cmid>` */
  dedupeOrphans: (conv: string) => `${P.conv}${conv}${P.dedupeOrphans}`,
  /**
   * sorted set: conversation → when it next holds a message or dedupe entry to expire (ms;
   * a fractional score is a reclaimer's claim). One key for all conversations: sends write
   * it beside (before) their script, never from inside it, so every script keeps to one slot.
   */
  reclaimIndex: () => `imstorm:{reclaim}:due`,
  /** hash: member → join seq (groups only) */
  members: (conv: string) => `${P.conv}${conv}${P.members}`,
  /** hash: former member → `<joinSeq>|<leaveSeq>` (groups only): its devices still get what it was a member for */
  leavers: (conv: string) => `c:{${conv}}:left`,
  /** sorted set: member → join order (groups only; ownership passes to the earliest) */
  joinOrder: (conv: string) => `c:{${conv}}:ord`,
  /** hash: conv → 1; a superset of the user's conversations (membership is decided by the conv side) */
  userConvs: (user: string) => `u:{${user}}:convs`,
  /** string: dm conversations the user started in the current minute (NEW_CONVERSATIONS_PER_MINUTE) */
  newConversations: (user: string) => `u:{${user}}:newc`,
  /** string: how many `g:` entries the user's index holds (MAX_GROUPS_PER_USER) */
  userGroupCount: (user: string) => `u:{${user}}:ng`,
  /** hash: conv → `<epoch>|<seq>`, one per device */
  cursors: (user: string, device: string) => `${P.cursorsUser}${user}${P.cursorsDevice}${device}`,
  /** hash: conv → `<epoch>|<seq>` read marks of the user (all devices) */
  reads: (user: string) => `u:{${user}}:read`,
  /** hash: connection id → `<incarnation>#<lease generation>|<device>` */
  conns: (user: string) => `u:{${user}}:conns`,
  /** hash: status, v, ts */
  presence: (user: string) => `u:{${user}}:p`,
  /** sorted set: incarnation → lease expiry (Redis ms); the lease keys share one slot */
  leases: () => `imstorm:{leases}:expiry`,
  /** hash: incarnation → lease generation, a new one (the time in ms) whenever a lapsed lease is taken up again */
  leaseGens: () => `imstorm:{leases}:gen`,
  /** string: which node is sweeping a dead incarnation (a claim with an expiry) */
  leaseSweep: (incarnation: string) => `imstorm:{leases}:sweep:${incarnation}`,
  /**
   * a node incarnation's registry of its connections: hash `<user>\t<conn id>` → the lease
   * generation it was registered under (before 2026-12-06 a set of `<user>\t<conn id>`; a sweep
   * reads either, and an older node's sweep fails on a hash, WRONGTYPE, leaving it to a newer)
   */
  nodeRegistry: (incarnation: string) => `n:{${incarnation}}:conns`,
  busChannel: () => `imstorm:bus`,
} as const;
