// Where the repository and the server entry are, wherever the harness is run from.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_ENTRY = path.join(REPO_ROOT, 'server', 'main.ts');
/** The server's test entry: the same node with deliberately faulty seams named by TEST_BUGS. */
export const SERVER_TEST_ENTRY = path.join(REPO_ROOT, 'server', 'test-main.ts');
