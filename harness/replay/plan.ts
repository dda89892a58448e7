// From a capture to a recorded plan and the faults it implies (issue 12): who the devices
// were, which conversations they were in, what each did when, and which Redis links,
// node restarts and kills the nodes lived through.
import type { FaultEvent } from '../model/facts.ts';
import type { FaultStep } from '../scenario/define.ts';
import type { Recorded, RecordedMemberChange, RecordedStep } from '../fleet/recorded.ts';
import type { CaptureData, NodeRecord } from './read.ts';
import { maxOf } from '../util/extent.ts';

export interface ReplayWindow {
  /** ms after the capture's first hello; default 0 */
  fromMs?: number;
  /** ms after the capture's first hello; default its end */
  toMs?: number;
  /** only these users' devices (their conversations keep every recorded member) */
  users?: string[];
  /** 2 replays twice as fast (every recorded time halved) */
  speed: number;
}

export interface ReplayPlan {
  recorded: Recorded;
  /** what the capture implies, timed from the replay's start */
  faults: FaultStep[];
  /** why each implied fault is there, for people */
  faultNotes: string[];
  /** what of the capture the plan could not replay, for people */
  notes: string[];
  /** nodes the capture's devices and faults need */
  nodes: number;
  /** load phase: the last step plus a tail for the answers */
  durationMs: number;
  /** when the last step or fault ends, ms from the replay's start: the side-by-side windows end 1 s after it */
  lastStepMs: number;
  /** wall-clock ms of the capture that is the replay's 0, and of its end */
  t0: number;
  t1: number;
}

/** Node number (1-based) of a capture's node id: N for `node-N`, else its place in the list. */
export function nodeNumber(cap: CaptureData, id: string): number {
  const m = /^node-(\d+)$/.exec(id);
  return m ? Number(m[1]) : cap.nodes.indexOf(id) + 1;
}

const TAIL_MS = 2000;

export function planReplay(cap: CaptureData, w: ReplayWindow): ReplayPlan {
  const hellos = cap.records.filter((r): r is Extract<NodeRecord, { k: 'hello' }> => r.k === 'hello');
  if (!hellos.length) throw new Error(`the capture in ${cap.dir} has no accepted connection (no hello record): nothing to replay`);
  const start = hellos[0]!.w;
  const end = cap.records.at(-1)!.w;
  const t0 = start + (w.fromMs ?? 0);
  const t1 = w.toMs !== undefined ? start + w.toMs : end;
  if (t1 <= t0) throw new Error(`--from ${w.fromMs ?? 0} ms is not before --to ${w.toMs} ms (the capture lasts ${end - start} ms from its first hello)`);
  const rel = (wall: number) => Math.max(0, Math.round((wall - t0) / w.speed));
  const inWindow = (r: { w: number }) => r.w >= t0 && r.w <= t1;
  const wanted = w.users ? new Set(w.users) : null;

  // connections → devices (a conn id is unique across nodes: it starts with its node id)
  const deviceOf = new Map<string, string>();
  for (const h of hellos) deviceOf.set(h.conn, `${h.user}/${h.device}`);
  const opened = new Map<string, number>();
  for (const r of cap.records) if (r.k === 'open') opened.set(r.conn, r.w);

  interface Dev { user: string; device: string; node: number; presenceSubs: Set<string>; steps: RecordedStep[]; seen: boolean }
  const devices = new Map<string, Dev>();
  const dev = (conn: string): Dev | null => {
    const key = deviceOf.get(conn);
    if (!key) return null;
    const d = devices.get(key);
    return d ?? null;
  };
  for (const h of hellos) {
    const key = `${h.user}/${h.device}`;
    if (wanted && !wanted.has(h.user)) continue;
    if (!devices.has(key)) devices.set(key, { user: h.user, device: h.device, node: nodeNumber(cap, h.node), presenceSubs: new Set(), steps: [], seen: false });
  }
  if (!devices.size) throw new Error(`no recorded device of ${w.users!.join(', ')} in ${cap.dir} (--users names users by id)`);

  // conversations and their members when the window begins; joins and leaves inside it are replayed at their times
  const groups = new Map<string, { owner: string; members: Set<string>; created: boolean; ownerSeen: boolean }>();
  const dms = new Set<string>();
  const group = (id: string, owner: string) => groups.get(id) ?? groups.set(id, { owner, members: new Set([owner]), created: false, ownerSeen: false }).get(id)!;
  const membership: RecordedMemberChange[] = [];
  /** per group and user: the HTTP records said who they were before the window (then the traffic does not) */
  const knownBefore = new Set<string>();
  /** per group and user: the first change inside the window */
  const firstIn = new Map<string, 'join' | 'leave'>();
  const changeOf = (route: string): 'create' | 'join' | 'leave' | null =>
    route === 'POST /v1/groups' ? 'create' : route === 'POST /v1/groups/:group/members' ? 'join' : route === 'DELETE /v1/groups/:group/members/:user' ? 'leave' : null;
  for (const r of cap.records) {
    if (r.k !== 'http' || !r.group || r.status >= 300 || !r.user || r.w > t1) continue;
    const op = changeOf(r.route);
    if (!op) continue;
    const g = group(r.group, r.user);
    if (op === 'create') {
      // a group created inside the window is made at setup like the others (before its first send)
      g.owner = r.user;
      g.created = true;
      g.members.add(r.user);
      for (const u of r.users ?? []) g.members.add(u);
      for (const u of [r.user, ...(r.users ?? [])]) knownBefore.add(`${r.group}\n${u}`);
      continue;
    }
    // a group whose creation was not captured: the first who changes another user's membership stands for its owner
    // (the replay's owner must be allowed to make the recorded changes); a member then, so one from the start
    if (!g.created && !g.ownerSeen && r.users?.some((u) => u !== r.user)) {
      g.owner = r.user;
      g.ownerSeen = true;
      g.members.add(r.user);
    }
    for (const u of r.users ?? []) {
      const key = `${r.group}\n${u}`;
      if (r.w < t0) {
        knownBefore.add(key);
        if (op === 'join') g.members.add(u);
        else g.members.delete(u);
      } else {
        if (!firstIn.has(key)) firstIn.set(key, op);
        membership.push({ at: rel(r.w), group: r.group, user: u, op, by: r.user });
      }
    }
  }
  const noteConv = (conv: string | undefined, user: string | undefined) => {
    if (!conv) return;
    if (conv.startsWith('dm:')) dms.add(conv);
    else if (conv.startsWith('g:') && user) {
      const id = conv.slice(2);
      const key = `${id}\n${user}`;
      // traffic says who was in a group the HTTP records do not cover; not one that joined inside the window
      if (knownBefore.has(key) || firstIn.get(key) === 'join') {
        group(id, user);
        return;
      }
      group(id, user).members.add(user);
    }
  };
  for (const r of cap.records) {
    if ((r.k === 'in' || r.k === 'out') && r.conv) {
      const key = deviceOf.get(r.conn);
      noteConv(r.conv, key?.split('/')[0]);
    }
    if (r.k === 'http' && r.route === 'POST /v1/messages' && r.conv) noteConv(r.conv, r.user);
  }

  // steps
  const firstDeviceOf = new Map<string, Dev>();
  for (const d of devices.values()) if (!firstDeviceOf.has(d.user)) firstDeviceOf.set(d.user, d);
  /** per device, the presence subscriptions of its connection before the window (its `presenceSubs`) */
  const subsBefore = new Map<Dev, Set<string>>();
  let httpSkipped = 0;
  const lastHello = new Map<string, number>();
  for (const r of cap.records) {
    if (r.k === 'hello') {
      const d = dev(r.conn);
      if (!d) continue;
      // the device's first connection is made by the replay's connect phase
      if (d.seen && inWindow(r)) d.steps.push({ op: 'connect', at: rel(opened.get(r.conn) ?? r.w) });
      // a new connection before the window starts with no subscriptions
      if (r.w < t0) subsBefore.set(d, new Set());
      d.seen = true;
      lastHello.set(`${d.user}/${d.device}`, r.w);
      continue;
    }
    if (r.k === 'in' && (r.t === 'presence.sub' || r.t === 'presence.unsub') && r.w < t0) {
      const d = dev(r.conn);
      const subs = d && subsBefore.get(d);
      if (subs) for (const u of r.users ?? []) r.t === 'presence.sub' ? subs.add(u) : subs.delete(u);
      continue;
    }
    if (!inWindow(r)) continue;
    if (r.k === 'close' && r.by === 'client') {
      const d = dev(r.conn);
      if (d) d.steps.push({ op: 'drop', at: rel(r.w), code: r.code });
    } else if (r.k === 'http' && r.route === 'POST /v1/messages') {
      if (!r.user || !r.conv || !r.cmid) continue;
      if (wanted && !wanted.has(r.user)) continue;
      // sent as the device whose token it was, else as another device of that user
      const d = (r.device !== undefined ? devices.get(`${r.user}/${r.device}`) : undefined) ?? firstDeviceOf.get(r.user);
      if (!d) {
        httpSkipped++;
        continue;
      }
      d.steps.push({ op: 'http-send', at: rel(r.w), conv: r.conv, cmid: r.cmid, bytes: Math.max(1, r.bytes ?? 64) });
    } else if (r.k === 'in') {
      const d = dev(r.conn);
      if (!d) continue;
      if (r.t === 'send' && r.conv && r.cmid) d.steps.push({ op: 'send', at: rel(r.w), conv: r.conv, cmid: r.cmid, bytes: Math.max(1, r.bytes ?? 64) });
      else if (r.t === 'ack' && r.conv && r.seq !== undefined) d.steps.push({ op: 'ack', at: rel(r.w), conv: r.conv, seq: r.seq });
      else if (r.t === 'read' && r.conv && r.seq !== undefined) d.steps.push({ op: 'read', at: rel(r.w), conv: r.conv, seq: r.seq });
      else if (r.t === 'history' && r.conv) d.steps.push({ op: 'history', at: rel(r.w), conv: r.conv, ...(r.after !== undefined ? { after: r.after } : {}), ...(r.before !== undefined ? { before: r.before } : {}), ...(r.limit !== undefined ? { limit: r.limit } : {}) });
      else if ((r.t === 'presence.sub' || r.t === 'presence.unsub') && r.users?.length) d.steps.push({ op: r.t, at: rel(r.w), users: r.users });
    }
  }
  for (const d of devices.values()) d.steps.sort((a, b) => a.at - b.at);
  for (const [d, subs] of subsBefore) for (const u of subs) d.presenceSubs.add(u);
  const planNotes: string[] = [];
  if (httpSkipped) planNotes.push(`${httpSkipped} HTTP send(s) (POST /v1/messages) by users with no recorded device (outside CAPTURE_SAMPLE or --users) not replayed`);

  const { faults, notes } = impliedFaults(cap, t0, t1, rel);
  const lastStep = maxOf([0, ...[...devices.values()].map((d) => d.steps[d.steps.length - 1]?.at ?? 0), ...membership.map((c) => c.at), ...faults.map((f) => f.at + ('duration' in f ? f.duration : 'restartAfter' in f ? (f.restartAfter ?? 0) : 0))]);
  const nodes = maxOf([1, ...[...devices.values()].map((d) => d.node), ...cap.nodes.map((n) => nodeNumber(cap, n))]);
  return {
    recorded: {
      source: cap.dir,
      groups: [...groups].map(([id, g]) => ({ id, owner: g.owner, members: [...g.members] })),
      membership,
      dms: [...dms],
      devices: [...devices.values()].map((d) => ({ user: d.user, device: d.device, node: d.node, presenceSubs: [...d.presenceSubs], steps: d.steps })),
    },
    faults,
    faultNotes: notes,
    notes: planNotes,
    nodes,
    durationMs: Math.max(3000, Math.ceil(lastStep + TAIL_MS)),
    lastStepMs: lastStep,
    t0,
    t1,
  };
}

/**
 * The faults a capture implies, per node: the command link down (then the Redis link was
 * cut for that long: a `cut` of redis-link:node-N), the bus link alone down (a `bus-drop`),
 * a node that stopped and started again (a `restart`), a node whose records end without a
 * stop before a new incarnation starts (a `kill`, restarted after the gap). Closes by code
 * are not faults here: each device's own drops are its steps.
 */
export function impliedFaults(cap: CaptureData, t0: number, t1: number, rel: (w: number) => number): { faults: FaultStep[]; notes: string[] } {
  const faults: FaultStep[] = [];
  const notes: string[] = [];
  const within = (w: number) => w >= t0 && w <= t1;
  for (const id of cap.nodes) {
    const n = nodeNumber(cap, id);
    const mine = cap.records.filter((r) => r.node === id);
    // Redis links: cmd down..up is a cut; bus down while cmd stayed up is a bus drop
    let cmdDown: number | null = null;
    let everUp = false;
    for (const r of mine) {
      if (r.k !== 'redis') continue;
      if (r.link === 'cmd' && r.state === 'up') {
        if (cmdDown !== null && within(cmdDown)) {
          faults.push({ kind: 'cut', at: rel(cmdDown), duration: Math.max(1, rel(r.w) - rel(cmdDown)), link: `redis-link:node-${n}` });
          notes.push(`cut redis-link:node-${n} at ${rel(cmdDown)} ms for ${rel(r.w) - rel(cmdDown)} ms: ${id}'s command link to Redis was down from ${new Date(cmdDown).toISOString()}`);
        }
        cmdDown = null;
        everUp = true;
      } else if (r.link === 'cmd' && r.state === 'down' && everUp) cmdDown = r.w;
      else if (r.link === 'bus' && r.state === 'down' && cmdDown === null && everUp && within(r.w)) {
        // the command link stayed up: the bus connection alone was lost
        const cmdFollows = mine.some((x) => x.k === 'redis' && x.link === 'cmd' && x.state === 'down' && x.w >= r.w && x.w - r.w < 1000);
        if (!cmdFollows) {
          faults.push({ kind: 'bus-drop', at: rel(r.w), target: `node-${n}` });
          notes.push(`bus-drop node-${n} at ${rel(r.w)} ms: ${id}'s bus link alone went down at ${new Date(r.w).toISOString()}`);
        }
      }
    }
    // incarnations: a stop then a start is a restart; an end without a stop then a start is a kill
    const incs = [...new Set(mine.map((r) => r.incarnation))];
    for (let i = 1; i < incs.length; i++) {
      const prev = mine.filter((r) => r.incarnation === incs[i - 1]);
      // When the new process began: its first record (the file header), less how long the process had run by
      // then (`up`: its module loading, in headers that say it) — not its `node start` once serving. The replay's
      // own start boots the node again, so timing the restart by `node start` counted the boot twice (smoke
      // under load average 20–30: node-3 was down 3.9 s in the original, about 8 s in the replay).
      const first = mine.find((r) => r.incarnation === incs[i])!;
      const next = { w: first.w - (first.k === 'file' ? (first.up ?? 0) : 0) };
      const stopped = prev.find((r) => r.k === 'node' && r.event === 'stop');
      const last = prev.at(-1)!;
      if (!within(last.w)) continue;
      if (stopped) {
        faults.push({ kind: 'restart', at: rel(stopped.w), target: `node-${n}` });
        notes.push(`restart node-${n} at ${rel(stopped.w)} ms: ${id} stopped (${stopped.k === 'node' ? stopped.signal ?? 'stop' : ''}) and started again`);
      } else {
        faults.push({ kind: 'kill', at: rel(last.w), target: `node-${n}`, restartAfter: Math.max(0, rel(next.w) - rel(last.w)) });
        notes.push(`kill node-${n} at ${rel(last.w)} ms, back after ${rel(next.w) - rel(last.w)} ms: ${id}'s records end without a stop, then a new incarnation started`);
      }
    }
  }
  faults.sort((a, b) => a.at - b.at);
  return { faults, notes };
}

/**
 * The faults of the original run (a report's fault timeline) that its capture cannot show:
 * toxics on any link (a slow link leaves no record on the node), cuts of client links, and
 * node pauses, each at its time in the replay's time base (`rel`: wall ms of the capture →
 * ms from the replay's start) and for its length. Redis-link cuts, bus drops, restarts and
 * kills are left to the capture's own implied faults (impliedFaults), so none is doubled.
 */
export function faultsOfRun(events: readonly FaultEvent[], t0: number, t1: number, speed: number): { faults: FaultStep[]; notes: string[] } {
  const faults: FaultStep[] = [];
  const notes: string[] = [];
  const at = (w: number) => Math.max(0, Math.round((w - t0) / speed));
  const length = (e: FaultEvent) => Math.max(1, Math.round(((e.end ?? e.start) - e.start) / speed));
  for (const e of events) {
    if (e.start < t0 || e.start > t1 || e.end === undefined) continue;
    const link = /^(client|redis)-link:node-\d+$/.test(e.target) ? e.target : null;
    const d = (e.detail ?? {}) as { stream?: string; toxicity?: number; attributes?: Record<string, number> };
    const type = e.kind.startsWith('toxic:') ? e.kind.slice(6) : null;
    if (type && link && TOXIC_TYPES.has(type)) {
      const toxic = { type, stream: d.stream === 'upstream' ? 'upstream' : 'downstream', toxicity: d.toxicity ?? 1, attributes: { ...(d.attributes ?? {}) } } as Extract<FaultStep, { kind: 'toxic' }>['toxic'];
      faults.push({ kind: 'toxic', at: at(e.start), duration: length(e), link, toxic });
      notes.push(`toxic ${type} on ${link} at ${at(e.start)} ms for ${length(e)} ms: from the original run's fault timeline (${JSON.stringify(toxic.attributes)})`);
    } else if (e.kind === 'link:disable' && link?.startsWith('client-link:')) {
      faults.push({ kind: 'cut', at: at(e.start), duration: length(e), link });
      notes.push(`cut ${link} at ${at(e.start)} ms for ${length(e)} ms: from the original run's fault timeline`);
    } else if (e.kind === 'node:pause' && /^node-\d+$/.test(e.target)) {
      faults.push({ kind: 'pause', at: at(e.start), duration: length(e), target: e.target });
      notes.push(`pause ${e.target} at ${at(e.start)} ms for ${length(e)} ms: from the original run's fault timeline`);
    }
  }
  return { faults, notes };
}

const TOXIC_TYPES = new Set(['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data']);
