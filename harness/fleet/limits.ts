// The operating-system limits a big fleet meets, checked before a run so it fails with a
// precise instruction instead of EMFILE or EADDRNOTAVAIL halfway through.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface LimitFinding {
  what: string;
  value: string;
  ok: boolean;
  /** what to change, when not ok */
  fix?: string;
}

export interface LimitPlan {
  /** connections the fleet will open in all */
  connections: number;
  /** fleet processes it will use */
  processes: number;
  /** server nodes the connections spread over */
  nodes: number;
  /** source addresses the fleet will use (127.0.0.2, …) */
  sourceAddresses: number;
  /** server nodes run on this machine too (their sockets count against the same limits) */
  serverLocal: boolean;
  /** connection churn is expected (TIME_WAIT pile-up) */
  churn: boolean;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function nofile(): { soft: number; hard: number } | null {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(read('/proc/self/limits') ?? '');
  if (!m) return null;
  const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/** Per address pair, Linux gives one ephemeral port per connection. */
export function checkLimits(p: LimitPlan): LimitFinding[] {
  const out: LimitFinding[] = [];
  const perProcess = Math.ceil(p.connections / Math.max(1, p.processes));
  const fd = nofile();
  if (fd) {
    const ok = perProcess + 256 <= fd.soft;
    out.push({
      what: 'open files per fleet process (ulimit -n)',
      value: `soft ${fd.soft}, hard ${fd.hard}; the plan puts ${perProcess} sockets in each of ${p.processes} processes`,
      ok,
      fix: ok ? undefined : fd.hard >= perProcess + 256 ? `raise the soft limit: ulimit -n ${fd.hard}` : `use more fleet processes: --processes ${Math.ceil(p.connections / Math.max(1, fd.hard - 2000))} (the hard limit ${fd.hard} cannot be raised here)`,
    });
    if (p.serverLocal) {
      const perNode = Math.ceil(p.connections / Math.max(1, p.nodes));
      const nodeOk = perNode + 512 <= fd.soft;
      out.push({
        what: 'open files per server node',
        value: `${perNode} connections per node, limit ${fd.soft}`,
        ok: nodeOk,
        fix: nodeOk ? undefined : `use more server nodes: --nodes ${Math.ceil(p.connections / Math.max(1, fd.soft - 2000))}`,
      });
    }
  }
  const range = read('/proc/sys/net/ipv4/ip_local_port_range');
  if (range) {
    const [lo, hi] = range.split(/\s+/).map(Number) as [number, number];
    const ports = hi - lo + 1;
    const perPair = Math.ceil(p.connections / Math.max(1, p.nodes * Math.max(1, p.sourceAddresses)));
    const need = p.churn ? perPair * 2 : perPair;
    const ok = need <= ports * 0.9;
    out.push({
      what: 'ephemeral ports per (source address, server address) pair',
      value: `${ports} ports (${lo}-${hi}); the plan needs about ${need} per pair${p.churn ? ' (doubled for TIME_WAIT under churn)' : ''}`,
      ok,
      fix: ok ? undefined : `spread clients over more source addresses: --source-addresses ${Math.ceil((p.connections * (p.churn ? 2 : 1)) / (ports * 0.9 * Math.max(1, p.nodes)))}, or widen the range: sysctl -w net.ipv4.ip_local_port_range="1024 65000"`,
    });
  }
  const somax = read('/proc/sys/net/core/somaxconn');
  if (somax) {
    const ok = Number(somax) >= 1024;
    out.push({ what: 'listen backlog (net.core.somaxconn)', value: somax, ok, fix: ok ? undefined : 'sysctl -w net.core.somaxconn=4096' });
  }
  const reuse = read('/proc/sys/net/ipv4/tcp_tw_reuse');
  if (reuse && p.churn) {
    const ok = reuse === '1' || reuse === '2';
    out.push({ what: 'TIME_WAIT reuse for outgoing connections (net.ipv4.tcp_tw_reuse)', value: reuse, ok, fix: ok ? undefined : 'sysctl -w net.ipv4.tcp_tw_reuse=1' });
  }
  const memNeeded = p.connections * 20 * 1024;
  const memOk = memNeeded < os.totalmem() * 0.8;
  out.push({ what: 'memory', value: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; about ${(memNeeded / 2 ** 30).toFixed(1)} GiB planned for clients and server`, ok: memOk, fix: memOk ? undefined : 'run fewer connections per machine, or spread fleets over several machines' });
  return out;
}

/**
 * Client links one fault proxy process can carry: it holds two descriptors per link (client
 * side and server side) under the same open-file limit as everything else, less a reserve.
 */
export function proxiedLinkBudget(): number {
  const fd = nofile();
  return fd && Number.isFinite(fd.soft) ? Math.max(0, Math.floor((fd.soft - 2048) / 2)) : Number.MAX_SAFE_INTEGER;
}

/** 127.0.0.2 … : source addresses on loopback, all routable without configuration on Linux. */
export function sourceAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`);
}

/** Most sockets one fleet process holds: the open-file cap is 20,000 per process here. */
export const MAX_CLIENTS_PER_PROCESS = 18_000;
