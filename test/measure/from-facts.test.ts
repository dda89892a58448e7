import { describe, expect, it } from 'vitest';
import { recordFacts } from '../../harness/measure/from-facts.ts';
import { LatencySet } from '../../harness/measure/latency.ts';
import { ThroughputSeries } from '../../harness/measure/series.ts';
import type { Fact } from '../../harness/model/facts.ts';

const T = Date.UTC(2026, 0, 1);

describe('recordFacts', () => {
  const facts: Fact[] = [
    { k: 'conn', client: 'a/d1', conn: 'pending:1', event: 'connect', at: T },
    { k: 'conn', client: 'a/d1', conn: 'c1', event: 'welcome', at: T + 4 },
    { k: 'conn', client: 'b/d1', conn: 'pending:2', event: 'connect', at: T },
    { k: 'conn', client: 'b/d1', conn: 'c2', event: 'welcome', at: T + 6 },
    { k: 'send', client: 'a/d1', conn: 'c1', conv: 'dm:a:b', cmid: 'm1', intendedAt: T + 100, sentAt: T + 101, attempts: 1, outcome: 'sent', answeredAt: T + 110, seq: 1, epoch: 'e' },
    { k: 'send', client: 'a/d1', conn: 'c1', conv: 'dm:a:b', cmid: 'm2', intendedAt: T + 200, sentAt: T + 250, attempts: 2, outcome: 'error', answeredAt: T + 260, code: 'unavailable' },
    // the sender's own device gets it too: not a delivery latency
    { k: 'recv', client: 'a/d1', conn: 'c1', conv: 'dm:a:b', epoch: 'e', seq: 1, from: 'a', cmid: 'm1', at: T + 111, via: 'live' },
    { k: 'recv', client: 'b/d1', conn: 'c2', conv: 'dm:a:b', epoch: 'e', seq: 1, from: 'a', cmid: 'm1', at: T + 130, via: 'live' },
    // b reconnects and gets it again in the backlog: only the first receipt counts
    { k: 'conn', client: 'b/d1', conn: 'c2', event: 'close', at: T + 1000, code: 1006 },
    { k: 'conn', client: 'b/d1', conn: 'pending:3', event: 'connect', at: T + 1500 },
    { k: 'conn', client: 'b/d1', conn: 'c3', event: 'welcome', at: T + 1510 },
    { k: 'recv', client: 'b/d1', conn: 'c3', conv: 'dm:a:b', epoch: 'e', seq: 1, from: 'a', cmid: 'm1', at: T + 1520, via: 'backlog' },
    { k: 'conn', client: 'b/d1', conn: 'c3', event: 'synced', at: T + 1540 },
  ];

  it('derives send→sent, send→delivered, hello→welcome and reconnect→synced', () => {
    const latency = new LatencySet();
    const series = new ThroughputSeries();
    recordFacts([...facts].reverse(), { latency, series });
    expect(latency.get('sendToSent').count).toBe(1);
    expect(latency.get('sendToSent').summary().max).toBeCloseTo(10, 1);
    expect(latency.get('sendToDelivered').count).toBe(1);
    expect(latency.get('sendToDelivered').summary().max).toBeCloseTo(30, 1);
    expect(latency.get('helloToWelcome').count).toBe(3);
    expect(latency.get('reconnectToSynced').count).toBe(1);
    expect(latency.get('reconnectToSynced').summary().max).toBeCloseTo(40, 1);
    expect(series.total('sends')).toBe(3); // attempts
    expect(series.total('sent')).toBe(1);
    expect(series.total('errors')).toBe(1);
    expect(series.total('deliveries')).toBe(3);
    expect(series.total('connects')).toBe(3);
    expect(series.total('disconnects')).toBe(1);
    expect(series.columns().connections.at(-1)).toBe(2);
  });
});
