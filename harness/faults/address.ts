// host:port handling with Go's net package conventions, so `listen` values
// read back exactly as Toxiproxy reports them ("127.0.0.1:41234", "[::]:8080").

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** Splits "host:port" / "[v6]:port" / ":port" like Go's net.SplitHostPort; an empty port means 0. */
export function splitHostPort(address: string): HostPort {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) throw new Error(`address ${address}: missing ']' in address`);
    if (address[close + 1] !== ':') throw new Error(`address ${address}: missing port in address`);
    host = address.slice(1, close);
    portText = address.slice(close + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw new Error(`address ${address}: missing port in address`);
    host = address.slice(0, colon);
    if (host.includes(':')) throw new Error(`address ${address}: too many colons in address`);
    portText = address.slice(colon + 1);
  }
  if (portText === '') return { host, port: 0 };
  if (!/^\d+$/.test(portText)) throw new Error(`address ${address}: unknown port`);
  const port = Number(portText);
  if (port > 65535) throw new Error(`address ${address}: invalid port`);
  return { host, port };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function isUnspecified(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

/**
 * Address to bind for a proxy `listen` value. Go listens dual-stack on
 * wildcard hosts (reported as "[::]:port") and picks IPv4 for names such as
 * "localhost".
 */
export async function resolveListenAddress(address: string): Promise<HostPort> {
  const { host, port } = splitHostPort(address);
  if (isUnspecified(host)) return { host: '::', port };
  if (isIP(host)) return { host, port };
  try {
    const addresses = await lookup(host, { all: true });
    const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
    if (!chosen) throw new Error('no such host');
    return { host: chosen.address, port };
  } catch {
    throw new Error(`lookup ${host}: no such host`);
  }
}

/** What Go's net.ResolveTCPAddr(...).String() gives, used to tell whether a populate changes a proxy. */
export async function canonicalListen(address: string): Promise<string> {
  try {
    const { host, port } = splitHostPort(address);
    if (host === '') return `:${port}`;
    const resolved = await resolveListenAddress(address);
    return joinHostPort(resolved.host, port);
  } catch {
    return address;
  }
}
