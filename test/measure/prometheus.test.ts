import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PromSnapshot, parsePrometheusText } from '../../harness/measure/prometheus.ts';
import { infoNumber, parseRedisInfo } from '../../harness/measure/redis-info.ts';

// Captured from a real server node (GET /metrics) after a few sends, a dup and a bad request.
const REAL = readFileSync(new URL('./fixtures/metrics.txt', import.meta.url), 'utf8');

describe('Prometheus text parsing', () => {
  it('reads every series of a real /metrics page', () => {
    const p = new PromSnapshot(REAL);
    expect(p.parsed.malformed).toBe(0);
    expect(p.value('imstorm_connections')).toBe(2);
    expect(p.value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(p.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024);
    expect(p.value('imstorm_event_loop_lag_seconds')).toBeGreaterThan(0);
    expect(p.value('imstorm_open_fds')).toBeGreaterThan(10);
    expect(p.value('imstorm_unsent_bytes')).toBe(0);
    expect(p.byLabel('imstorm_active_handles', 'type')).toMatchObject({ TCPServerWrap: 1 });
    expect(p.sum('imstorm_active_handles')).toBeGreaterThanOrEqual(3);
    expect(p.value('imstorm_sends_total', { dup: 'false' })).toBe(4);
    expect(p.value('imstorm_sends_total', { dup: 'true' })).toBe(1);
    expect(p.sum('imstorm_sends_total')).toBe(5);
    expect(p.value('imstorm_deliveries_total')).toBe(6);
    expect(p.value('imstorm_errors_total', { code: 'bad_request' })).toBe(1);
    expect(p.value('imstorm_frames_in_total')).toBe(7);
    expect(p.parsed.types['imstorm_connections']).toBe('gauge');
    expect(p.parsed.types['imstorm_send_latency_seconds']).toBe('histogram');
    expect(p.value('imstorm_send_latency_seconds_bucket', { le: '+Inf' })).toBe(4);
  });

  it('handles escapes, special values, timestamps and junk lines', () => {
    const text = [
      '# HELP x_total a counter',
      '# TYPE x_total counter',
      'x_total{path="/a\\"b",note="line\\nbreak",back="c:\\\\d"} 3 1700000000000',
      'y +Inf',
      'z{a="1",} NaN',
      'w -1.5e3',
      'broken{a="1" 2',
      'also broken',
      '',
    ].join('\n');
    const p = parsePrometheusText(text);
    expect(p.malformed).toBe(2);
    expect(p.samples[0]).toEqual({ name: 'x_total', labels: { path: '/a"b', note: 'line\nbreak', back: 'c:\\d' }, value: 3 });
    expect(p.samples[1]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(p.samples[2]!.value).toBeNaN();
    expect(p.samples[3]!.value).toBe(-1500);
    expect(p.types['x_total']).toBe('counter');
  });

  it('answers undefined for absent series', () => {
    const p = new PromSnapshot('');
    expect(p.value('imstorm_connections')).toBeUndefined();
    expect(p.sum('imstorm_errors_total')).toBeUndefined();
    expect(p.byLabel('imstorm_active_handles', 'type')).toEqual({});
  });
});

describe('Redis INFO parsing', () => {
  it('reads the fields the sampler keeps', () => {
    const info = parseRedisInfo('# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n\r\n# Clients\r\nconnected_clients:7\r\n# Stats\r\ninstantaneous_ops_per_sec:42\r\n');
    expect(infoNumber(info, 'used_memory')).toBe(1048576);
    expect(infoNumber(info, 'connected_clients')).toBe(7);
    expect(infoNumber(info, 'instantaneous_ops_per_sec')).toBe(42);
    expect(infoNumber(info, 'used_memory_human')).toBeUndefined();
    expect(infoNumber(info, 'missing')).toBeUndefined();
  });
});
