/**
 * The system packages imstorm needs beyond npm: redis-server (the local environment and
 * the tests), Chromium (the report test) and libfaketime (the clock-step test). `ensureSystemPackages` installs what is
 * missing from Debian's packages when it can (root, apt-get present, not told otherwise),
 * and otherwise says exactly what to install — so the README's commands work on a fresh
 * Debian machine with nothing done by hand.
 *
 *   node harness/util/system-deps.ts redis chromium libfaketime     (npm test runs this first)
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's libfaketime, multi-threaded build (its package's path on this architecture) */
export const LIBFAKETIME = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketimeMT.so.1`;

export interface SystemPackage {
  name: string;
  /** the executable that proves it is installed (or, with `library`, the file) */
  binary: string;
  /** `binary` is a shared library: readable is enough */
  library?: boolean;
  debian: string;
  why: string;
  otherwise: string;
}

export const SYSTEM_PACKAGES: Record<string, SystemPackage> = {
  redis: {
    name: 'redis-server',
    binary: 'redis-server',
    debian: 'redis-server',
    why: 'the local environment and the integration tests start redis-server processes',
    otherwise: 'apt-get install -y redis-server (Debian/Ubuntu), brew install redis (macOS), or set REDIS_SERVER_BIN',
  },
  chromium: {
    name: 'Chromium',
    binary: process.env.IMSTORM_CHROMIUM ?? 'chromium',
    debian: 'chromium',
    why: 'the report test opens report.html in headless Chromium',
    otherwise: 'apt-get install -y chromium (Debian), or set IMSTORM_CHROMIUM to a Chromium/Chrome binary',
  },
  libfaketime: {
    name: 'libfaketime',
    binary: LIBFAKETIME,
    library: true,
    debian: 'libfaketime',
    why: 'the clock-step test runs a node under libfaketime (LD_PRELOAD) to step its wall clock',
    otherwise: 'apt-get install -y libfaketime (Debian/Ubuntu)',
  },
};

function onPath(binary: string, library = false): boolean {
  const candidates = binary.includes('/') ? [binary] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, binary));
  return candidates.some((p) => {
    try {
      accessSync(p, library ? constants.R_OK : constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function missingPackages(keys: readonly string[]): SystemPackage[] {
  return keys.map((k) => SYSTEM_PACKAGES[k]!).filter((p) => !onPath(p.binary, p.library) && !(p.binary === 'redis-server' && process.env.REDIS_SERVER_BIN && onPath(process.env.REDIS_SERVER_BIN)));
}

/** Installs missing packages with apt-get when possible; returns what is still missing. */
export function ensureSystemPackages(keys: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): SystemPackage[] {
  let missing = missingPackages(keys);
  if (!missing.length) return [];
  const canApt = process.getuid?.() === 0 && onPath('apt-get') && process.env.IMSTORM_NO_INSTALL !== '1';
  if (canApt) {
    const names = missing.map((p) => p.debian);
    log(`imstorm: installing ${names.join(' ')} from Debian's packages (needed: ${missing.map((p) => p.why).join('; ')}); set IMSTORM_NO_INSTALL=1 to stop this`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    if (update.status === 0) spawnSync('apt-get', ['install', '-y', '-qq', ...names], { stdio: 'inherit', env });
    missing = missingPackages(keys);
  }
  for (const p of missing) log(`imstorm: ${p.name} is missing — ${p.why}. Install it: ${p.otherwise}`);
  return missing;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const keys = process.argv.slice(2);
  const unknown = keys.filter((k) => !(k in SYSTEM_PACKAGES));
  if (unknown.length || !keys.length) {
    process.stderr.write(`usage: node harness/util/system-deps.ts ${Object.keys(SYSTEM_PACKAGES).join('|')} ...\n`);
    process.exit(2);
  }
  process.exit(ensureSystemPackages(keys).length ? 1 : 0);
}
