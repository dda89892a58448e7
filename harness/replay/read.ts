// Reads a capture directory (server/capture): every node's files, each line checked
// against the shared record schema, so a capture the reader does not understand is
// refused naming the file and line, not half replayed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { captureFiles } from '../../server/capture/capture.ts';
import { captureRecord, type CaptureRecord } from '../../server/capture/schema.ts';

/** A record with where it came from: the node that wrote it and the incarnation (process) of that node. */
export type NodeRecord = CaptureRecord & { node: string; incarnation: string };

export interface CaptureData {
  dir: string;
  files: string[];
  /** every record of every node, by wall time */
  records: NodeRecord[];
  /** node ids in the order the replay numbers them (node-1, node-2, … by their own number when named so) */
  nodes: string[];
}

export class CaptureReadError extends Error {}

/** The capture under `dir`: the directory itself, or its `capture/` subdirectory (a report directory's). */
export function readCapture(dir: string): CaptureData {
  const candidates = [dir, path.join(dir, 'capture')];
  const at = candidates.find((d) => existsSync(d) && statSync(d).isDirectory() && captureFiles(d).length > 0);
  if (!at) throw new CaptureReadError(`no capture files (<node>-<start>-<n>.ndjson) in ${dir}${existsSync(path.join(dir, 'capture')) ? ' or its capture/' : ''}: capture with CAPTURE_DIR=<dir> on the nodes (README "Replaying an incident")`);
  const files = captureFiles(at);
  const records: NodeRecord[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let node = '';
    let incarnation = '';
    lines.forEach((line, i) => {
      if (!line) return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        // a node killed mid-write leaves its last line cut short: only the last line may be
        if (i >= lines.length - 2) return;
        throw new CaptureReadError(`${file}:${i + 1}: not JSON`);
      }
      const r = captureRecord.safeParse(json);
      if (!r.success) throw new CaptureReadError(`${file}:${i + 1}: not a capture record of this version: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
      if (r.data.k === 'file') ({ node, incarnation } = r.data);
      if (!node) throw new CaptureReadError(`${file}:${i + 1}: the file does not begin with its header record`);
      records.push({ ...r.data, node, incarnation });
    });
  }
  records.sort((a, b) => a.w - b.w || a.m - b.m);
  const ids = [...new Set(records.map((r) => r.node))];
  const num = (id: string) => Number(/^node-(\d+)$/.exec(id)?.[1] ?? NaN);
  const nodes = ids.every((id) => Number.isFinite(num(id))) ? ids.sort((a, b) => num(a) - num(b)) : ids;
  return { dir: at, files, records, nodes };
}
