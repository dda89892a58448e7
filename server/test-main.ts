import { loadConfig } from './config/config.ts';
import { runNode } from './node.ts';
import { parseTestBugs, testBugs } from './testing/faulty-stores.ts';

/**
 * `TEST_BUGS=drop_replay node server/test-main.ts`: a server node with deliberately faulty
 * seams (server/testing/faulty-stores.ts), for tests that show a checker catches its bug.
 * The harness starts this entry when a topology's server environment sets TEST_BUGS.
 */
let config;
let bugs;
try {
  config = loadConfig(process.env, process.argv.slice(2));
  bugs = parseTestBugs(process.env.TEST_BUGS ?? '');
} catch (err) {
  process.stderr.write(`imstorm test server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
try {
  await runNode(config, {
    warning: bugs.length ? `DELIBERATE BUGS ENABLED: ${bugs.join(', ')} (server/test-main.ts)` : undefined,
    wrapStores: (stores, links) => bugs.reduce((s, b) => testBugs[b](s, links.cmd), stores),
  });
} catch (err) {
  process.stderr.write(`imstorm test server: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}
