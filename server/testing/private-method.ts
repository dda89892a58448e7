/**
 * The test-only variants (TEST_BUGS) wrap a few private methods of the server's classes.
 * A refactor that renames one would leave its variant quietly doing nothing — a control that
 * can no longer fail — so each wrapper takes the method through here, which refuses to
 * install over a method that is gone (test/unit/test-bugs.test.ts installs every variant).
 */
export function privateMethod<F extends (...args: never[]) => unknown>(proto: object, name: string, bug: string): F {
  const method = (proto as Record<string, unknown>)[name];
  if (typeof method !== 'function') throw new Error(`TEST_BUGS=${bug}: ${proto.constructor.name}.prototype.${name} is gone; point the variant at the method that now does its job`);
  return method as F;
}
