// `imstorm agent`: a fleet process that can live on another machine (agent.ts).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { z } from 'zod';
import { EXIT_USAGE, parseFlags, type Subcommand } from '../subcommand.ts';
import { runAgent } from './agent.ts';
import { MAX_CLIENTS_PER_PROCESS } from './limits.ts';

const USAGE = [
  'Usage: imstorm agent --control ws://HOST:PORT/control [--token T] [options]',
  '',
  'A fleet process for `imstorm run … --agents N --control-listen HOST:PORT`, on this or',
  'another machine: connects to the run\'s control endpoint, takes its share of the devices,',
  'drives them against the server URLs the run gives it, and streams progress, latency',
  'histograms and facts back. Exits 0 when the run says bye, 1 when the link fails.',
  '',
  'Options:',
  '  --control URL     the run\'s control endpoint (printed by imstorm run --control-listen;\n' +
    '                    default IMSTORM_CONTROL_URL)',
  '  --token T         its token (default IMSTORM_CONTROL_TOKEN; prefer the variable:',
  '                    a command line is visible to every user of the machine)',
  '  --name NAME       unique name in the run (default <hostname>-<pid>-<4 random hex>: scaled\n' +
    '                    containers share a hostname and a pid; also IMSTORM_AGENT_NAME)',
  `  --capacity N      most devices it takes (default ${MAX_CLIENTS_PER_PROCESS}: ~20,000 open files a process)`,
  '  --wait S          keep trying to reach --control this long, seconds (default 120)',
  '  -h, --help        show this help',
].join('\n');

const flags = z.object({
  control: z.string({ message: '--control is required: the URL imstorm run --control-listen printed (ws://HOST:PORT/control)' }).regex(/^wss?:\/\/[^/]+\/control$/, '--control must look like ws://HOST:PORT/control'),
  token: z.string({ message: 'give the control token: --token T or IMSTORM_CONTROL_TOKEN' }).min(16, 'the control token has at least 16 bytes: use the one imstorm run printed'),
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, '--name takes 1..100 letters, digits, . _ -'),
  capacity: z.coerce.number({ message: '--capacity must be a whole number' }).int().min(1).max(100_000, '--capacity must be 1..100000'),
  wait: z.coerce.number({ message: '--wait must be a number of seconds' }).min(0).max(3600, '--wait must be 0..3600 seconds'),
});

export const agentCommand: Subcommand = {
  name: 'agent',
  summary: 'Run a fleet agent for imstorm run --agents N --control-listen HOST:PORT (this or another machine)',
  usage: USAGE,
  async run(args, io) {
    const { values } = parseFlags(args, { control: { type: 'string' }, token: { type: 'string' }, name: { type: 'string' }, capacity: { type: 'string' }, wait: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const r = flags.safeParse({
      control: values.control ?? process.env.IMSTORM_CONTROL_URL,
      token: values.token ?? process.env.IMSTORM_CONTROL_TOKEN,
      name: values.name ?? process.env.IMSTORM_AGENT_NAME ?? `${os.hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
      capacity: values.capacity ?? MAX_CLIENTS_PER_PROCESS,
      wait: values.wait ?? 120,
    });
    if (!r.success) {
      io.err(`imstorm agent: ${r.error.issues.map((i) => i.message).join('; ')}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    try {
      return await runAgent({ control: r.data.control, token: r.data.token, name: r.data.name, capacity: r.data.capacity, connectWithinMs: r.data.wait * 1000, log: io.err, announce: true });
    } catch (err) {
      io.err(`imstorm agent: ${(err as Error).message}`);
      return EXIT_USAGE;
    }
  },
};
