// Group spam over HTTP (server/http/http.ts, PROTOCOL.md "HTTP"): creates and adds that
// must be refused — lists over GROUP_MAX, ids that exist, adds by non-members, groups that
// do not exist, bad ids, bursts past the per-user group bucket — recording every refusal
// so the residue check can show none of them wrote a key.
import { attackerUser, going, timed, userToken, type AttackContext, type AttackNode } from './context.ts';
import { httpAttempt } from './raw-tcp.ts';

/** What refused group requests named: none of it may exist in Redis afterwards. */
export interface GroupRefusals {
  /** group ids whose creation was refused and that no request created → the refused request and its answer */
  groups: Map<string, string>;
  /** (conversation, user) pairs a refused request listed: the user must not be a member nor have it in its index */
  members: { conv: string; user: string; why: string }[];
  /** group ids some request may have created (answered 201, 5xx or not at all): their keys may exist */
  unsure: Set<string>;
}

export function newRefusals(): GroupRefusals {
  return { groups: new Map(), members: [], unsure: new Set() };
}

const refused = (answer: string) => /^http:4\d\d:/.test(answer);

export async function groupSpam(ctx: AttackContext, node: AttackNode, rounds: number, burst: number, out: GroupRefusals, created: Set<string>): Promise<void> {
  await timed(ctx, 'group-spam', node, async () => {
    let requests = 0;
    let why = '';
    const post = async (kind: string, user: string, path: string, body: unknown): Promise<string> => {
      requests++;
      const a = await httpAttempt(`${node.url}${path}`, { method: 'POST', token: await userToken(ctx.jwtSecret, user), rawBody: typeof body === 'string' ? body : JSON.stringify(body) });
      ctx.log.one('group-spam', kind, node.id, `POST ${path} ${(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 100)}`, a);
      why = `${kind} by ${user} on ${node.id} answered ${a}`;
      return a;
    };
    const victims = (n: number) => Array.from({ length: n }, () => attackerUser(ctx, 'v'));
    const gid = () => attackerUser(ctx, 'g');
    const refuseCreate = (id: string, members: string[], a: string) => {
      if (refused(a)) {
        if (!created.has(id) && !out.unsure.has(id)) out.groups.set(id, why);
        for (const user of members) out.members.push({ conv: `g:${id}`, user, why });
      } else {
        // created, or an outcome the attack cannot know (no answer, 5xx): not a refusal
        if (a.startsWith('http:201')) created.add(id);
        out.groups.delete(id);
        out.unsure.add(id);
      }
    };
    for (let r = 0; going(ctx, r, rounds); r++) {
      // a list over GROUP_MAX
      let id = gid();
      let v = victims(ctx.limits.groupMax + 1 + (r % 50));
      refuseCreate(id, v.slice(0, 20), await post('group.create-too-many', attackerUser(ctx, 's'), '/v1/groups', { id, members: v }));
      // a group that exists: the second creator's list gains nothing
      const owner = attackerUser(ctx, 's');
      const existing = gid();
      const made = await post('group.create', owner, '/v1/groups', { id: existing, members: victims(2) });
      refuseCreate(existing, [], made);
      // what needs the group to exist only when it surely does (a 503 may or may not have created it)
      if (made.startsWith('http:201')) {
        v = victims(3);
        refuseCreate(existing, v, await post('group.create-existing', attackerUser(ctx, 's'), '/v1/groups', { id: existing, members: v }));
        // an add by a non-member; an add over GROUP_MAX
        v = victims(3);
        const a = await post('group.add-not-member', attackerUser(ctx, 's'), `/v1/groups/${existing}/members`, { users: v });
        if (refused(a)) for (const user of v) out.members.push({ conv: `g:${existing}`, user, why });
        v = victims(ctx.limits.groupMax + 1);
        const big = await post('group.add-too-many', owner, `/v1/groups/${existing}/members`, { users: v });
        if (refused(big)) for (const user of v.slice(0, 20)) out.members.push({ conv: `g:${existing}`, user, why });
      }
      // an add to a group that does not exist
      id = gid();
      v = victims(2);
      refuseCreate(id, v, await post('group.add-no-group', attackerUser(ctx, 's'), `/v1/groups/${id}/members`, { users: v }));
      // malformed: a bad group id, bad member ids, not JSON
      await post('group.bad-request', attackerUser(ctx, 's'), '/v1/groups', { id: '../etc', members: [] });
      id = gid();
      refuseCreate(id, [], await post('group.bad-request', attackerUser(ctx, 's'), '/v1/groups', { id, members: ['ok', 'not ok!'] }));
      await post('group.bad-request', attackerUser(ctx, 's'), '/v1/groups', '{"id":');
      // a burst past the bucket (GROUP_OPS_BURST): the excess is rate_limited and creates nothing
      const spammer = attackerUser(ctx, 's');
      for (let i = 0; i < burst; i++) {
        id = gid();
        v = victims(1);
        refuseCreate(id, v, await post('group.burst', spammer, '/v1/groups', { id, members: v }));
      }
    }
    return { rounds, requests, refusedGroups: out.groups.size };
  });
}
