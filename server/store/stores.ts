import type { BusLink } from '../bus/link.ts';
import type { CursorStore } from './cursors.ts';
import type { GroupStore } from './groups.ts';
import type { ConversationLog } from './log.ts';
import type { PresenceStore } from './presence-store.ts';

/**
 * Everything a node keeps outside its own memory, as the seams the rest of the server
 * takes: the Redis implementations (redis/) in production, the in-memory ones (memory/)
 * in unit tests, deliberately faulty wrappers (server/testing/) in the harness's own tests.
 */
export interface Stores {
  log: ConversationLog;
  cursors: CursorStore;
  groups: GroupStore;
  presence: PresenceStore;
  bus: BusLink;
}
