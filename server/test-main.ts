// first: V8 settings that must hold before the rest of the server is loaded
import './v8-flags.ts';
import { isLoopback, loadConfig } from './config/config.ts';
import { runNode } from './node.ts';
import { isStoreBug, parseTestBugs, processBugs, storeBugs } from './testing/faulty-stores.ts';

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
  if (bugs.length && !isLoopback(config.HOST) && !config.FORCE_DEBUG_ON_PUBLIC_HOST) {
    throw new Error(`TEST_BUGS: deliberate bugs refused on the non-loopback HOST "${config.HOST}"; bind HOST=127.0.0.1, drop TEST_BUGS, or set FORCE_DEBUG_ON_PUBLIC_HOST=1`);
  }
} catch (err) {
  process.stderr.write(`imstorm test server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
try {
  await runNode(config, {
    warning: bugs.length ? `DELIBERATE BUGS ENABLED: ${bugs.join(', ')} (server/test-main.ts)` : undefined,
    wrapStores: (stores, links) => bugs.filter(isStoreBug).reduce((s, b) => storeBugs[b](s, links.cmd), stores),
  });
  for (const b of bugs) if (!isStoreBug(b)) processBugs[b]();
} catch (err) {
  process.stderr.write(`imstorm test server: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}
