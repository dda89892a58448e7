// The bus's own heartbeat (server/bus/bus.ts) against a hand-driven BusLink: a heartbeat
// lost with a dropped subscription must not reopen the subscription that replaced it, and
// one lost while the link stays up still must; a heartbeat whose publish failed is not waited for.
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bus, type BusHandlers } from '../../server/bus/bus.ts';
import type { BusLink, BusLinkEvents } from '../../server/bus/link.ts';
import { decodeBusPayload, encodeBusPayload, type BusPayload } from '../../server/bus/payloads.ts';

const TIMEOUT_MS = 1000;

/** publishes come back as payloads while `echo` is on; reopen is counted */
class HandLink extends EventEmitter<BusLinkEvents> implements BusLink {
  isUp = true;
  echo = true;
  /** publishes fail, as when the command link dropped and the subscription did not */
  reject = false;
  reopens: string[] = [];
  published: BusPayload[] = [];
  publish(payload: BusPayload): Promise<void> {
    this.published.push(payload);
    if (this.reject) return Promise.reject(new Error('command link down'));
    if (this.echo && this.isUp) queueMicrotask(() => this.emit('payload', encodeBusPayload(payload)));
    return Promise.resolve();
  }
  reopen(reason: string): void {
    this.reopens.push(reason);
  }
  drop(): void {
    this.isUp = false;
    this.emit('down');
  }
  back(): void {
    this.isUp = true;
    this.emit('up');
  }
}

const handlers = (): BusHandlers => ({ message() {}, join() {}, leave() {}, presence() {}, read() {}, kick() {}, kickUser() {}, busDown() {}, resync() {} });

/** a started bus whose first two heartbeats came back */
async function started(): Promise<{ link: HandLink; bus: Bus }> {
  const link = new HandLink();
  const bus = new Bus(link, pino({ level: 'silent' }), 'inc-1', TIMEOUT_MS, handlers());
  bus.start();
  await vi.advanceTimersByTimeAsync(1_000);
  expect(link.published.length).toBe(2);
  return { link, bus };
}

describe('the bus heartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a heartbeat lost with a dropped subscription does not reopen the one that replaced it', async () => {
    const { link, bus } = await started();
    link.echo = false;
    await vi.advanceTimersByTimeAsync(500); // the third goes out, and the subscription drops before it comes back
    link.drop();
    await vi.advanceTimersByTimeAsync(300);
    link.echo = true;
    link.back();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(link.reopens).toEqual([]);
    // the new subscription is judged by heartbeats of its own, and they came back
    expect(link.published.length).toBeGreaterThan(5);
    expect(decodeBusPayload(encodeBusPayload(link.published.at(-1)!))).toMatchObject({ k: 'h', incarnation: 'inc-1' });
    bus.stop();
  });

  it('a subscription that comes back up but delivers nothing is still reopened, by its own heartbeat', async () => {
    const { link, bus } = await started();
    link.echo = false;
    await vi.advanceTimersByTimeAsync(500);
    link.drop();
    await vi.advanceTimersByTimeAsync(300);
    link.back(); // up, and nothing it publishes ever comes back
    await vi.advanceTimersByTimeAsync(2 * TIMEOUT_MS);
    expect(link.reopens).toEqual(['own heartbeat did not come back']);
    bus.stop();
  });

  it('a heartbeat lost while the link stays up reopens it once STORE_TIMEOUT_MS has passed', async () => {
    const { link, bus } = await started();
    link.echo = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(link.reopens).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(link.reopens).toEqual(['own heartbeat did not come back']);
    bus.stop();
  });

  it('a heartbeat whose publish failed does not reopen a subscription that stayed up', async () => {
    const { link, bus } = await started();
    link.reject = true; // the command link drops; the subscription stays up
    await vi.advanceTimersByTimeAsync(500);
    const failed = link.published.length;
    link.reject = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(link.reopens).toEqual([]);
    expect(link.published.length).toBeGreaterThan(failed + 5);
    bus.stop();
  });

  it('after a failed publish, a subscription that delivers nothing is still reopened by the next heartbeat', async () => {
    const { link, bus } = await started();
    link.reject = true;
    await vi.advanceTimersByTimeAsync(500);
    link.reject = false;
    link.echo = false;
    await vi.advanceTimersByTimeAsync(2 * TIMEOUT_MS + 500);
    expect(link.reopens).toEqual(['own heartbeat did not come back']);
    bus.stop();
  });
});
