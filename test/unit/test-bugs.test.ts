// Every TEST_BUGS variant that wraps a server method must find that method: a refactor that
// renames one (as the delivery core's `pushLive` → `push` once did) would otherwise leave the
// variant doing nothing and its scenario control unable to fail.
import { describe, expect, it } from 'vitest';
import { processBugs } from '../../server/testing/faulty-stores.ts';
import { privateMethod } from '../../server/testing/private-method.ts';

// timers that throw on purpose, not wrappers: installing them here would crash the worker
const TIMED = new Set(['throw_uncaught', 'throw_uncaught_later']);

describe('TEST_BUGS variants install over methods that exist', () => {
  it.each(Object.keys(processBugs).filter((b) => !TIMED.has(b)))('%s', (bug) => {
    expect(() => processBugs[bug as keyof typeof processBugs]()).not.toThrow();
  });

  it('a wrapper over a method that is gone refuses to install, naming the variant and the method', () => {
    class Hub {
      push(): void {}
    }
    expect(privateMethod(Hub.prototype, 'push', 'cursor_on_push')).toBe(Hub.prototype.push);
    expect(() => privateMethod(Hub.prototype, 'pushLive', 'cursor_on_push')).toThrow('TEST_BUGS=cursor_on_push: Hub.prototype.pushLive is gone');
  });
});
