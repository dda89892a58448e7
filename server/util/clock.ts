/**
 * Milliseconds on a clock that is never set: for deadlines, timeouts, liveness windows and
 * rates, which compare two readings of it. Date.now() is the wall clock, which NTP, a resumed
 * VM or an operator steps: a step back of an hour kept every Redis command's deadline and
 * every dead connection's heartbeat window open for that hour and left a sender's rate
 * bucket an hour's worth of tokens short (rate_limited until the clock caught up); a step
 * forward timed out every Redis command in flight. Date.now() stays for times others read
 * (a frame's `ts`, a token's `exp`, scores kept in Redis).
 *
 * performance.now(): libuv's CLOCK_MONOTONIC reading, in fractional ms from the process's
 * start; it costs what Date.now() costs (about 130 ns a call on this machine). Read from the
 * global at each call, as Date.now() is, so a test's fake timers (`performance`) drive it too.
 */
export function monoNow(): number {
  return globalThis.performance.now();
}
