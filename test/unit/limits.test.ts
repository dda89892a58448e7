import { describe, expect, it } from 'vitest';
import { checkLimits, sourceAddresses } from '../../harness/fleet/limits.ts';

describe('fleet limit checks', () => {
  it('a plan within this machine\'s limits passes', () => {
    const f = checkLimits({ connections: 1000, processes: 1, nodes: 1, sourceAddresses: 1, serverLocal: true, churn: false });
    expect(f.filter((x) => !x.ok)).toEqual([]);
  });

  it('100k connections in one process and one node name the exact fixes', () => {
    const f = checkLimits({ connections: 100_000, processes: 1, nodes: 1, sourceAddresses: 1, serverLocal: true, churn: true });
    const bad = Object.fromEntries(f.filter((x) => !x.ok).map((x) => [x.what, x.fix]));
    expect(bad['open files per fleet process (ulimit -n)']).toMatch(/--processes \d+|ulimit -n/);
    expect(bad['open files per server node']).toMatch(/--nodes \d+/);
    expect(bad['ephemeral ports per (source address, server address) pair']).toMatch(/--source-addresses \d+/);
  });

  it('source addresses start at 127.0.0.2 and stay on loopback', () => {
    const a = sourceAddresses(300);
    expect(a[0]).toBe('127.0.0.2');
    expect(a[253]).toBe('127.0.0.255');
    expect(a[254]).toBe('127.0.1.0');
    expect(a.every((x) => x.startsWith('127.'))).toBe(true);
  });
});
