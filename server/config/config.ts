import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseTrustedProxies } from '../gateway/admission.ts';

/**
 * Server configuration: PROTOCOL.md's table, read from the environment and from
 * `--kebab-case` flags (flags win). Validated once, at the edge; every error names the
 * variable and what it accepts.
 */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const configSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  // Secrets come from the environment or a file, never a flag (see SECRET_VARS below).
  JWT_SECRET: z.string().optional(),
  JWT_SECRET_FILE: z.string().min(1).optional(),
  ADMIN_JWT_SECRET: z.string().optional(),
  ADMIN_JWT_SECRET_FILE: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_MAX_AGE_S: int(0).default(86400),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must match ^[A-Za-z0-9_.-]{1,64}$').default(hostname().slice(0, 64).replace(/[^A-Za-z0-9_.-]/g, '-') || 'node'),
  HELLO_TIMEOUT_MS: int(1).default(5000),
  HEARTBEAT_MS: int(1).default(25000),
  PRESENCE_TTL_MS: int(100).default(30000),
  STORE_TIMEOUT_MS: int(50).default(2000),
  MAX_FRAME_BYTES: int(256).default(65536),
  MAX_BODY_BYTES: int(1).default(16384),
  SEND_RATE: z.coerce.number().positive().default(50),
  SEND_BURST: int(1).default(100),
  MAX_SENDS_IN_FLIGHT: z.coerce
    .number({ message: 'must be the sends a node lets wait for Redis at once, 1..1000000, e.g. 512' })
    .int('must be a whole number of sends; use 1..1000000, e.g. 512')
    .min(1, 'must be at least 1 send; use 1..1000000, e.g. 512')
    .max(1_000_000, 'must be at most 1000000; use 1..1000000, e.g. 512')
    .default(512),
  MAX_DEVICES: int(1).default(10),
  PRESENCE_SUBS_MAX: int(0).default(1000),
  BACKLOG_LIMIT: int(1).default(500),
  SLOW_CONSUMER_BYTES: int(1024).default(1048576),
  NODE_OUTBOUND_BYTES: int(1024).default(536870912),
  MAX_CONNECTIONS: int(1).default(200000),
  MAX_CONNECTIONS_PER_ADDRESS: int(0).default(0),
  TRUSTED_PROXIES: z.string().default(''),
  HTTP_HEADERS_TIMEOUT_MS: int(100).default(10000),
  HTTP_REQUEST_TIMEOUT_MS: int(100).default(30000),
  DEDUPE_TTL_MS: int(1000).default(86400000),
  RETENTION_MAX_MSGS: int(1).default(100000),
  RETENTION_MS: int(1000).default(2592000000),
  RECLAIM_INTERVAL_MS: z.coerce
    .number({ message: 'must be the milliseconds between background reclaim steps; use 100..3600000, e.g. 10000' })
    .int('must be a whole number of milliseconds; use 100..3600000, e.g. 10000')
    .min(100, 'must be at least 100 ms (each step claims and trims up to 200 conversations); use 100..3600000, e.g. 10000')
    .max(3_600_000, 'must be at most 3600000 (an hour): RETENTION_MS holds within about this much; use 100..3600000, e.g. 10000')
    .default(10000),
  GROUP_MAX: int(1).default(1000),
  MAX_GROUPS_PER_USER: int(1).default(10000),
  NEW_CONVERSATIONS_PER_MINUTE: int(1).default(60),
  GROUP_OPS_RATE: z.coerce.number().positive().default(5),
  GROUP_OPS_BURST: int(1).default(20),
  DRAIN_MS: int(0).default(10000),
  ADMIN_PORT: int(0, 65535).optional(),
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().min(1).optional(),
  ALLOW_VOLATILE_STORE: flag.default(false),
  DEBUG_ROUTES: flag.default(false),
  /** serve DEBUG_ROUTES / honour TEST_BUGS on a non-loopback bind anyway */
  FORCE_DEBUG_ON_PUBLIC_HOST: flag.default(false),
  /** post-incident capture (server/capture): a directory turns it on */
  CAPTURE_DIR: z.string().min(1).optional(),
  CAPTURE_SAMPLE: z.coerce
    .number({ message: 'must be the fraction of users recorded, 0..1 (e.g. 0.1; 1 records everyone)' })
    .min(0, 'must be the fraction of users recorded, 0..1 (e.g. 0.1; 1 records everyone)')
    .max(1, 'must be the fraction of users recorded, 0..1 (e.g. 0.1; 1 records everyone)')
    .default(1),
  CAPTURE_MAX_BYTES: z.coerce
    .number({ message: 'must be the bytes a node\'s capture may keep on disk, at least 1048576 (1 MiB), e.g. 1073741824' })
    .int('must be a whole number of bytes, at least 1048576 (1 MiB), e.g. 1073741824')
    .min(1_048_576, 'must be at least 1048576 (1 MiB): the capture rotates over 4 files of a quarter each')
    .default(1_073_741_824),
  CAPTURE_BODIES: flag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = Omit<z.infer<typeof configSchema>, 'JWT_SECRET' | 'ADMIN_JWT_SECRET'> & {
  /** resolved from JWT_SECRET or JWT_SECRET_FILE, at least MIN_SECRET_BYTES */
  JWT_SECRET: string;
  /** resolved from ADMIN_JWT_SECRET or ADMIN_JWT_SECRET_FILE when one is set */
  ADMIN_JWT_SECRET: string | undefined;
};

/** PROTOCOL.md: the HS256 secret is at least 32 bytes. */
export const MIN_SECRET_BYTES = 32;
/** Never accepted as flags: a command line is visible to every user of the machine (`ps`). */
const SECRET_VARS = new Set(['JWT_SECRET', 'ADMIN_JWT_SECRET']);
const SECRET_HINT = 'e.g. `openssl rand -hex 32`';

export class ConfigError extends Error {}

/** `--redis-url x`, `--redis-url=x` and `--allow-volatile-store` (bare flag = 1). */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}": options are --kebab-case flags, e.g. --port 8080`);
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)).toUpperCase().replace(/-/g, '_');
    if (!(name in configSchema.shape)) throw new ConfigError(`unknown option --${arg.slice(2).split('=')[0]}; see README.md "Server configuration"`);
    if (SECRET_VARS.has(name)) {
      throw new ConfigError(
        `invalid configuration:\n  ${name}: must not be passed as a flag (--${arg.slice(2).split('=')[0]}): command lines are visible to every user of the machine; set the ${name} environment variable or ${name}_FILE=<path of a file holding it> instead`,
      );
    }
    if (eq >= 0) out[name] = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) out[name] = argv[++i]!;
    else out[name] = '1';
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  Object.assign(raw, parseFlags(argv));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '?');
      const given = raw[key] === undefined ? '' : ` (got "${raw[key]}")`;
      return `  ${key} / --${key.toLowerCase().replace(/_/g, '-')}: ${i.message}${given}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const jwtSecret = resolveSecret('JWT_SECRET', parsed.data.JWT_SECRET, parsed.data.JWT_SECRET_FILE);
  if (jwtSecret === undefined) {
    throw new ConfigError(`invalid configuration:\n  JWT_SECRET: is required (the HS256 secret tokens are signed with): set the JWT_SECRET environment variable to at least ${MIN_SECRET_BYTES} bytes (${SECRET_HINT}), or JWT_SECRET_FILE=<path of a file holding it>`);
  }
  const adminSecret = resolveSecret('ADMIN_JWT_SECRET', parsed.data.ADMIN_JWT_SECRET, parsed.data.ADMIN_JWT_SECRET_FILE);
  if (adminSecret !== undefined && adminSecret === jwtSecret) {
    throw new ConfigError('invalid configuration:\n  ADMIN_JWT_SECRET: must differ from JWT_SECRET (operator tokens need their own key); generate another one, ' + SECRET_HINT);
  }
  const d = parsed.data;
  try {
    parseTrustedProxies(d.TRUSTED_PROXIES);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  TRUSTED_PROXIES / --trusted-proxies: ${(err as Error).message}`);
  }
  if (d.HTTP_HEADERS_TIMEOUT_MS > d.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS / --http-headers-timeout-ms: must not exceed HTTP_REQUEST_TIMEOUT_MS (${d.HTTP_REQUEST_TIMEOUT_MS}) (got "${d.HTTP_HEADERS_TIMEOUT_MS}")`);
  }
  if (d.ADMIN_PORT !== undefined && d.ADMIN_PORT !== 0 && d.ADMIN_PORT === d.PORT) {
    throw new ConfigError(`invalid configuration:\n  ADMIN_PORT / --admin-port: must differ from PORT (${d.PORT}); leave it unset to serve /metrics and the debug routes on PORT`);
  }
  if (!d.FORCE_DEBUG_ON_PUBLIC_HOST) {
    // the debug routes are on the admin listener when there is one, else on the public one
    const [debugVar, debugHost] = d.ADMIN_PORT !== undefined ? ['ADMIN_HOST', d.ADMIN_HOST] : ['HOST', d.HOST];
    if (d.DEBUG_ROUTES && !isLoopback(debugHost)) {
      throw new ConfigError(
        `invalid configuration:\n  DEBUG_ROUTES / --debug-routes: refused on the non-loopback ${debugVar} "${debugHost}" (the debug routes need no token and force full GCs); serve them on loopback (${debugVar}=127.0.0.1${debugVar === 'HOST' ? ', or ADMIN_PORT with ADMIN_HOST=127.0.0.1' : ''}), turn them off, or set FORCE_DEBUG_ON_PUBLIC_HOST=1`,
      );
    }
  }
  if (d.CAPTURE_DIR === undefined) {
    const stray = (['CAPTURE_SAMPLE', 'CAPTURE_MAX_BYTES', 'CAPTURE_BODIES'] as const).find((k) => raw[k] !== undefined);
    if (stray) throw new ConfigError(`invalid configuration:\n  ${stray} / --${stray.toLowerCase().replace(/_/g, '-')}: has no effect without CAPTURE_DIR; set CAPTURE_DIR=<directory> to capture, or drop ${stray}`);
  }
  return { ...parsed.data, JWT_SECRET: jwtSecret, ADMIN_JWT_SECRET: adminSecret };
}

/** 127.0.0.0/8, ::1, localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A secret from `NAME` or the file `NAME_FILE` (one trailing newline dropped), checked for length. */
function resolveSecret(name: string, value: string | undefined, file: string | undefined): string | undefined {
  if (value !== undefined && file !== undefined) throw new ConfigError(`invalid configuration:\n  ${name}: both ${name} and ${name}_FILE are set; set only one`);
  let secret = value;
  if (file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  ${name}_FILE: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)}); point it at a readable file holding the secret`);
    }
  }
  if (secret === undefined) return undefined;
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    const from = file !== undefined ? `${name}_FILE ("${file}")` : name;
    throw new ConfigError(`invalid configuration:\n  ${name}: must be at least ${MIN_SECRET_BYTES} bytes (got ${bytes} from ${from}); use a random secret, ${SECRET_HINT}`);
  }
  return secret;
}
