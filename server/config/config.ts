import { hostname } from 'node:os';
import { z } from 'zod';

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
  JWT_SECRET: z.string({ error: 'is required (the HS256 secret tokens are signed with)' }).min(1, 'must not be empty'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must match ^[A-Za-z0-9_.-]{1,64}$').default(hostname().slice(0, 64).replace(/[^A-Za-z0-9_.-]/g, '-') || 'node'),
  HELLO_TIMEOUT_MS: int(1).default(5000),
  HEARTBEAT_MS: int(1).default(25000),
  PRESENCE_TTL_MS: int(100).default(30000),
  STORE_TIMEOUT_MS: int(50).default(2000),
  MAX_FRAME_BYTES: int(256).default(65536),
  MAX_BODY_BYTES: int(1).default(16384),
  SEND_RATE: z.coerce.number().positive().default(50),
  SEND_BURST: int(1).default(100),
  MAX_DEVICES: int(1).default(10),
  PRESENCE_SUBS_MAX: int(0).default(1000),
  BACKLOG_LIMIT: int(1).default(500),
  SLOW_CONSUMER_BYTES: int(1024).default(1048576),
  NODE_OUTBOUND_BYTES: int(1024).default(536870912),
  MAX_CONNECTIONS: int(1).default(200000),
  DEDUPE_TTL_MS: int(1000).default(86400000),
  RETENTION_MAX_MSGS: int(1).default(100000),
  RETENTION_MS: int(1000).default(2592000000),
  GROUP_MAX: int(1).default(1000),
  DRAIN_MS: int(0).default(10000),
  ALLOW_VOLATILE_STORE: flag.default(false),
  DEBUG_ROUTES: flag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('production'),
  /** Deliberate bugs for the harness's own tests; honoured only when NODE_ENV=test. */
  TEST_BUGS: z.string().default(''),
});

export type Config = z.infer<typeof configSchema> & { testBugs: ReadonlySet<TestBug> };

export const testBugs = ['skip_dedupe', 'drop_replay', 'skip_gap_fill', 'throw_uncaught'] as const;
export type TestBug = (typeof testBugs)[number];

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
  const bugs = new Set<TestBug>();
  if (parsed.data.TEST_BUGS) {
    for (const b of parsed.data.TEST_BUGS.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!(testBugs as readonly string[]).includes(b)) throw new ConfigError(`invalid configuration:\n  TEST_BUGS: unknown bug "${b}" (known: ${testBugs.join(', ')})`);
      if (parsed.data.NODE_ENV === 'test') bugs.add(b as TestBug);
    }
  }
  return { ...parsed.data, testBugs: bugs };
}
