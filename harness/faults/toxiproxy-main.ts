// The embedded proxy with toxiproxy-server's command line (`-host=0.0.0.0 -port=8474`),
// so an image built around it runs wherever Shopify's image runs (ToxiProxyContainer,
// compose files, `docker run ... -host=127.0.0.1 -port=18474`). It logs toxiproxy-server's
// start line, which wait strategies look for, and exits 0 on SIGTERM/SIGINT (it may be PID 1).
//
//   node harness/faults/toxiproxy-main.ts [-host HOST] [-port PORT] [-config FILE] [-version]
// -config is toxiproxy-server's: a JSON array of proxies ({name, listen, upstream,
// enabled}) created at start, as POST /populate does.

import { readFileSync } from 'node:fs';
import { startToxiproxyServer, TOXIPROXY_VERSION } from './proxy-server.ts';

const USAGE = 'Usage: toxiproxy-main.ts [-host=HOST] [-port=PORT] [-config=FILE] [-version]';

function parse(argv: readonly string[]): { host: string; port: number; version: boolean; config: string } {
  const out = { host: 'localhost', port: 8474, version: false, config: '' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}`);
    const name = m[1]!;
    if (name === 'version') {
      out.version = true;
      continue;
    }
    if (name === 'h' || name === 'help') throw new Error('help');
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`flag needs an argument: -${name}`);
    if (name === 'host') out.host = value;
    else if (name === 'port') {
      if (!/^\d+$/.test(value) || Number(value) > 65535) throw new Error(`invalid value "${value}" for flag -port`);
      out.port = Number(value);
    } else if (name === 'config') out.config = value;
    else if (name === 'seed' || name === 'proxy-metrics' || name === 'runtime-metrics') {
      // accepted for compatibility; the embedded proxy has no seeds or metrics endpoints
    } else throw new Error(`flag provided but not defined: -${name}`);
  }
  return out;
}

let flags: ReturnType<typeof parse>;
try {
  flags = parse(process.argv.slice(2));
} catch (err) {
  const msg = (err as Error).message;
  process.stderr.write(msg === 'help' ? `${USAGE}\n` : `${msg}\n${USAGE}\n`);
  process.exit(2);
}
if (flags.version) {
  process.stdout.write(`toxiproxy-server version ${TOXIPROXY_VERSION} (imstorm embedded proxy)\n`);
  process.exit(0);
}

const server = await startToxiproxyServer({ host: flags.host, port: flags.port });
if (flags.config) {
  let body: string;
  try {
    body = readFileSync(flags.config, 'utf8');
  } catch (err) {
    process.stderr.write(`cannot read -config ${flags.config}: ${(err as Error).message}\n`);
    await server.close();
    process.exit(1);
  }
  const dial = ['0.0.0.0', '::', ''].includes(flags.host) ? '127.0.0.1' : flags.host.includes(':') ? `[${flags.host}]` : flags.host;
  const res = await fetch(`http://${dial}:${server.port}/populate`, { method: 'POST', body });
  const answer = await res.text();
  if (res.status !== 201) {
    process.stderr.write(`-config ${flags.config}: ${answer.trim()}\n`);
    await server.close();
    process.exit(1);
  }
  const count = (JSON.parse(answer) as { proxies?: unknown[] }).proxies?.length ?? 0;
  process.stdout.write(`${JSON.stringify({ level: 'info', config: flags.config, proxies: count, time: new Date().toISOString(), message: 'Populated proxies from file' })}\n`);
}
process.stdout.write(
  `${JSON.stringify({ level: 'info', host: flags.host, port: String(server.port), version: TOXIPROXY_VERSION, time: new Date().toISOString(), message: 'Starting Toxiproxy HTTP server' })}\n`,
);
let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  process.stdout.write(`${JSON.stringify({ level: 'info', signal, time: new Date().toISOString(), message: 'Shutting down' })}\n`);
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
