/**
 * Groups and each user's conversation index. Redis implementation: redis/redis-groups.ts;
 * in-memory: memory/memory-store.ts.
 *
 * Contract: membership changes are atomic with the `j`/`l` bus payloads they publish and
 * carry the head at which they took effect (a joiner gets head+1 onward; a leaver's
 * devices still get what was stored up to its leave). The user's index is a superset:
 * it is written before the membership it points to, so a crash in between leaves an
 * entry whose conversation says "not a member" (callers confirm with the log's `states`),
 * never a member who cannot find its conversation. Errors: ProtocolError `not_found`,
 * `forbidden`, `conflict`, `too_large` as PROTOCOL.md's group routes define them, and
 * `unavailable` when the store did not confirm.
 */
export interface GroupStore {
  /** Conversations indexed for the user (a superset, see above). */
  userConvs(user: string): Promise<string[]>;
  /** Drops index entries the log said the user is not a member of. */
  forgetConvs(user: string, convs: readonly string[]): Promise<void>;
  /** Creates `g:<group>` owned by `owner` with `members`; returns the conv id. */
  createGroup(owner: string, group: string, members: readonly string[]): Promise<string>;
  /** Adds users (the caller must be a member); returns those newly added. */
  joinGroup(caller: string, group: string, users: readonly string[]): Promise<string[]>;
  /** Removes `user` (the caller is the owner or the user); false when it was not a member. */
  leaveGroup(caller: string, group: string, user: string): Promise<boolean>;
  /** The group as its members see it (the caller must be a member). */
  getGroup(caller: string, group: string): Promise<GroupInfo>;
}

export interface GroupInfo {
  /** '' when the last member left */
  owner: string;
  head: number;
  /** in join order */
  members: string[];
}
