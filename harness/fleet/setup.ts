import { mintToken } from '../util/tokens.ts';
import { httpCall } from '../util/http-call.ts';
import { pool } from '../util/pool.ts';
import type { GroupPlan } from './workload.ts';

/** A user's token for HTTP calls (a target's tokens may come from the user's --token-cmd). */
export type UserToken = (user: string) => Promise<string>;

/** Creates the plan's groups through the HTTP API (bounded concurrency, clear errors); `auth` is the JWT secret, or where tokens come from. */
export async function createGroups(groups: readonly GroupPlan[], baseUrl: string, auth: string | UserToken, concurrency = 16): Promise<void> {
  await pool(groups, concurrency, async (g) => {
    const token = typeof auth === 'string' ? await mintToken(auth, g.owner) : await auth(g.owner);
    const others = g.members.filter((m) => m !== g.owner);
    for (let i = 0; i === 0 || i < others.length; i += 900) {
      const first = i === 0;
      const res = await httpCall(first ? `${baseUrl}/v1/groups` : `${baseUrl}/v1/groups/${encodeURIComponent(g.id)}/members`, {
        method: 'POST',
        token,
        body: first ? { id: g.id, members: others.slice(0, 900) } : { users: others.slice(i, i + 900) },
      });
      if (res.status >= 300) throw new Error(`creating group ${g.id}: HTTP ${res.status} ${res.text}`);
    }
  });
}
