// first: V8 settings that must hold before the rest of the server is loaded
import './v8-flags.ts';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { runNode } from './node.ts';

/** `node server/main.ts [--flags]`: one production server node (see server/node.ts). */
function configOrExit(): Config {
  try {
    return loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`imstorm server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

const config = configOrExit();
if (process.env.TEST_BUGS) {
  process.stderr.write('imstorm server: TEST_BUGS is read only by the test entry, node server/test-main.ts; the production server has no deliberate bugs. Unset TEST_BUGS.\n');
  process.exit(2);
}
runNode(config).catch((err: unknown) => {
  process.stderr.write(`imstorm server: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
