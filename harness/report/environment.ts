// Where a run happened: machine, Node, imstorm version, git commit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvironmentReport } from './schema.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (!/^[0-9a-f]{40}$/.test(out)) return undefined;
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${out}+dirty` : out;
  } catch {
    return undefined;
  }
}

/** The harness machine's facts, with `extra` fields (provider, nodes, …) laid over them. */
export function collectEnvironment(extra: Partial<EnvironmentReport> = {}): EnvironmentReport {
  const cpus = os.cpus();
  const commit = gitCommit();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    imstorm: packageVersion(),
    ...(commit ? { commit } : {}),
    ...extra,
  };
}
