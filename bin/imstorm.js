#!/usr/bin/env node
// Plain-JS entry point: Node >= 22.18 strips TypeScript types natively, so the
// CLI runs from its .ts source with no build step. Older Nodes can't load it,
// which usually means the machine's node was picked instead of the project's.

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const stripsTypes = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
if (!stripsTypes) {
  process.stderr.write(
    `imstorm needs Node >= 22.18 to run its TypeScript sources, but this is Node ${process.version}.\n` +
      "Run it through 'npx imstorm ...' or an 'npm run' script so the project's own Node 22\n" +
      '(node_modules/.bin/node, from the `node` devDependency) is used.\n',
  );
  process.exit(2);
}

// `imstorm agent` loads only the fleet, not the whole CLI (scenarios, reports, Testcontainers):
// half the CPU to start (0.35 s against 0.71 s here), paid by every agent process.
if (process.argv[2] === 'agent') {
  const { agentCommand } = await import('../harness/fleet/agent-cli.ts');
  const { runSubcommand } = await import('../harness/subcommand.ts');
  const io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };
  process.exit(await runSubcommand(agentCommand, process.argv.slice(3), io));
}
const { main } = await import('../harness/cli.ts');
// Exit with the command's code as soon as it is done: a library's idle keep-alive socket
// or timer must not keep a finished run (or a CI job) waiting.
process.exit(await main(process.argv.slice(2)));
