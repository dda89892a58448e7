import type net from 'node:net';

/** How a socket's writes reach the kernel: one entry per _write / _writev call, with its chunk count. */
export function watchSyscalls(sock: net.Socket): number[] {
  const calls: number[] = [];
  const s = sock as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], ...a: unknown[]) => void };
  const write = s._write.bind(sock);
  const writev = s._writev.bind(sock);
  s._write = (...a) => {
    calls.push(1);
    write(...a);
  };
  s._writev = (chunks, ...a) => {
    calls.push(chunks.length);
    writev(chunks, ...a);
  };
  return calls;
}
