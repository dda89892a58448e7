// Guarantee 3 (Order) over the frames one connection received.
import type { Frame } from './client.ts';

export interface ConvTrace {
  /** seqs delivered as msg frames, in arrival order. */
  seqs: number[];
  /** gaps announced {from,to,trimmed}. */
  gaps: Array<{ from: number; to: number; trimmed: boolean }>;
  /** conv frames seen. */
  convFrames: Frame[];
}

/**
 * Checks, per conversation and epoch, that msg seqs start right after the conv frame's
 * cursor (or after a gap) and rise by exactly 1. A conversation whose first frame is a
 * msg (no conv frame) is accepted from that msg on. Returns problems (empty when fine)
 * and the trace per conversation.
 */
export function checkOrder(frames: Frame[]): { problems: string[]; convs: Map<string, ConvTrace> } {
  const problems: string[] = [];
  const convs = new Map<string, ConvTrace>();
  const next = new Map<string, number | undefined>();
  const trace = (c: string) => {
    let t = convs.get(c);
    if (!t) {
      t = { seqs: [], gaps: [], convFrames: [] };
      convs.set(c, t);
    }
    return t;
  };
  for (const f of frames) {
    if (typeof f.conv !== 'string') continue;
    const c = f.conv;
    if (f.t === 'conv') {
      trace(c).convFrames.push(f);
      next.set(c, (f.cursor as number) + 1);
    } else if (f.t === 'gap') {
      trace(c).gaps.push({ from: f.from, to: f.to, trimmed: f.trimmed === true });
      const exp = next.get(c);
      if (exp !== undefined && f.from !== exp) problems.push(`${c}: gap from ${f.from} where ${exp} was expected`);
      if (f.to < f.from) problems.push(`${c}: gap ${f.from}..${f.to} is empty`);
      next.set(c, (f.to as number) + 1);
    } else if (f.t === 'msg') {
      trace(c).seqs.push(f.seq);
      const exp = next.get(c);
      if (exp !== undefined && f.seq !== exp) problems.push(`${c}: msg seq ${f.seq} where ${exp} was expected`);
      next.set(c, (f.seq as number) + 1);
    }
  }
  return { problems, convs };
}
