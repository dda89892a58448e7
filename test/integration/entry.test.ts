// The two server entries as processes: deliberate bugs exist only in the test entry.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SERVER_ENTRY, SERVER_TEST_ENTRY } from '../../harness/env/paths.ts';

const SECRET = 'test-secret-of-at-least-32-bytes-0123456789';

describe('server entries', () => {
  it('production main.ts refuses TEST_BUGS (exit 2); the test entry refuses an unknown bug (exit 2), naming it', () => {
    const prod = spawnSync(process.execPath, [SERVER_ENTRY], { env: { ...process.env, JWT_SECRET: SECRET, TEST_BUGS: 'skip_dedupe' }, encoding: 'utf8', timeout: 20_000 });
    expect(prod.status).toBe(2);
    expect(prod.stderr).toMatch(/TEST_BUGS is read only by the test entry/);
    const test = spawnSync(process.execPath, [SERVER_TEST_ENTRY], { env: { ...process.env, JWT_SECRET: SECRET, TEST_BUGS: 'nonsense' }, encoding: 'utf8', timeout: 20_000 });
    expect(test.status).toBe(2);
    expect(test.stderr).toMatch(/unknown bug "nonsense"/);
  });
});
