// Real server processes for integration tests: harness/env's server node with the tests'
// defaults (DEBUG_ROUTES=1, the shared test JWT secret).
import { startServerNode, REPO_ROOT, SERVER_ENTRY, type LogLine, type ServerNodeHandle, type ServerNodeOptions } from '../../harness/env/server-node.ts';
import { DEFAULT_JWT_SECRET } from './tokens.ts';

export { REPO_ROOT, SERVER_ENTRY };
export type { LogLine };
export type NodeHandle = ServerNodeHandle;

export interface NodeOptions extends Omit<ServerNodeOptions, 'jwtSecret'> {
  /** default: the shared test secret (tokens.ts) */
  jwtSecret?: string;
}

/** Test defaults, each overridable through `env` (`undefined` removes a variable). */
export const TEST_NODE_ENV: Readonly<Record<string, string>> = { DEBUG_ROUTES: '1' };

export function startNode(opts: NodeOptions): Promise<NodeHandle> {
  return startServerNode({ ...opts, jwtSecret: opts.jwtSecret ?? DEFAULT_JWT_SECRET, env: { ...TEST_NODE_ENV, ...opts.env } });
}
