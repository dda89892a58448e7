// The two properties a presence race run must keep (PROTOCOL.md: presence frames, guarantee 4):
// - convergence: once the schedule ends (every node running), each subscriber's highest-`v`
//   frame per user says `online` exactly when that user has an open connection, within
//   CONVERGE_MS, and still does STABLE_MS later;
// - rising `v`: across the presence frames one subscriber connection receives for a user, `v`
//   strictly rises — a frame whose `v` is not above every earlier one is stale (an exact
//   repeat of the frame held, same `v` and status, is counted apart: it changes nothing).
import { sleep } from '../helpers/procs.ts';
import { CONVERGE_MS, RaceViolation, STABLE_MS, type RaceRun, type Subscriber } from './presence-race-real.ts';

/** The frame a client keeps for `user`: the highest `v` (equal `v`: the later one). */
function held(r: RaceRun, s: Subscriber, user: string) {
  let best: { status: string; v: number; at: number } | undefined;
  for (const { frame, at } of r.framesOf(s, user)) if (!best || frame.v >= best.v) best = { status: frame.status as string, v: frame.v as number, at };
  return best;
}

function truthText(r: RaceRun, user: string): string {
  const devs = r.devices.filter((d) => d.user === user);
  return devs.map((d) => `${d.key} ${d.client === undefined ? 'never connected' : d.client.isOpen ? `open on n${d.node}` : `closed ${d.client.closed?.code} at +${r.ms(d.client.closed!.at)} ms`}`).join(', ');
}

function mismatches(r: RaceRun): string[] {
  const out: string[] = [];
  for (const s of r.subscribers) {
    if (!s.client.isOpen) {
      out.push(`subscriber ${s.name} (n${s.node}) lost its connection: closed ${s.client.closed?.code} at +${r.ms(s.client.closed!.at)} ms`);
      continue;
    }
    for (const user of r.watched) {
      const h = held(r, s, user);
      const truth = r.online(user) ? 'online' : 'offline';
      if (h?.status === truth) continue;
      out.push(`subscriber ${s.name} (n${s.node}) holds ${r.letter(user)} ${h ? `${h.status} (v ${h.v}, received at +${r.ms(h.at)} ms)` : 'with no frame'} but ${r.letter(user)} is ${truth}: ${truthText(r, user)}`);
    }
  }
  return out;
}

/**
 * Waits until every subscriber holds the truth and keeps holding it for STABLE_MS (a late
 * deregistration or sweep could still turn it), at the latest CONVERGE_MS after the last
 * step; returns how long it took to be right. Throws naming each subscriber that is wrong
 * at CONVERGE_MS or later.
 */
export async function checkConverges(r: RaceRun): Promise<number> {
  const start = Date.now();
  let rightSince: number | undefined;
  let firstRight: number | undefined;
  for (;;) {
    const bad = mismatches(r);
    const now = Date.now();
    if (!bad.length) {
      rightSince ??= now;
      firstRight ??= now - start;
      if (now - rightSince >= STABLE_MS) return firstRight;
    } else {
      rightSince = undefined;
      if (now - start >= CONVERGE_MS) {
        const when = firstRight === undefined ? '' : ` (it was right at +${r.ms(start + firstRight)} ms, then turned)`;
        throw new RaceViolation(`presence did not converge within ${CONVERGE_MS} ms after the last step${when} (at +${r.ms(now)} ms):\n  ${bad.join('\n  ')}`);
      }
    }
    await sleep(10);
  }
}

/** Exact repeats seen (same v and status as the frame held), over every run of a property. */
export const repeats = { count: 0 };

/** Throws at the first frame, per subscriber and user, whose `v` does not rise. */
export function checkRisingV(r: RaceRun): void {
  const bad: string[] = [];
  for (const s of r.subscribers) {
    for (const user of r.watched) {
      let top: { status: string; v: number; at: number } | undefined;
      for (const { frame, at } of r.framesOf(s, user)) {
        const f = { status: frame.status as string, v: frame.v as number, at };
        if (top && f.v <= top.v) {
          if (f.v === top.v && f.status === top.status) {
            repeats.count++;
            continue;
          }
          bad.push(`subscriber ${s.name} (n${s.node}) got ${r.letter(user)} ${f.status} v ${f.v} at +${r.ms(at)} ms after ${top.status} v ${top.v} at +${r.ms(top.at)} ms: v did not rise`);
          break;
        }
        top = f;
      }
    }
  }
  if (bad.length) throw new RaceViolation(`presence v went back:\n  ${bad.join('\n  ')}`);
}
