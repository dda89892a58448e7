/**
 * A local fleet process (`--processes`): an agent (agent.ts) started by the orchestrator on
 * this machine, connecting to its control endpoint over TCP exactly as `imstorm agent` on
 * another machine does. The endpoint and token come in the environment, not on the command
 * line (which every user of the machine can read).
 */
import { runAgent } from './agent.ts';
import { MAX_CLIENTS_PER_PROCESS } from './limits.ts';

const control = process.env.IMSTORM_CONTROL_URL;
const token = process.env.IMSTORM_CONTROL_TOKEN;
if (!control || !token) {
  process.stderr.write('fleet-process: IMSTORM_CONTROL_URL and IMSTORM_CONTROL_TOKEN must be set (the orchestrator starts this process)\n');
  process.exit(2);
}
const code = await runAgent({
  control,
  token,
  name: process.env.IMSTORM_AGENT_NAME ?? `local-${process.pid}`,
  capacity: MAX_CLIENTS_PER_PROCESS,
  connectWithinMs: 30_000,
  log: (l) => process.stderr.write(`${l}\n`),
});
process.exit(code);
