/**
 * What N more of something (connections, devices) hold, from two V8 heap snapshots: self
 * sizes summed by constructor — object literals by their first property names, arrays,
 * strings, heap numbers, hidden and closure objects by what first retains them — in the
 * second snapshot less the first, per item, largest first. How the figures in README "Idle
 * memory" were found.
 *
 *   NODE_OPTIONS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/snaps" (a node: through
 *   startServerNode's env) → kill -USR2 <pid> without and with N connections, after a GC
 *   node harness/bench/heap-diff.ts before.heapsnapshot after.heapsnapshot N [rows]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** a label's parent is shown for these: alone they say nothing about whose they are */
const byRetainer = (label: string) => label === 'Array' || label === 'system / Context' || label === 'Object{}' || label.startsWith('(');

function totals(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const m = s.snapshot.meta;
  const w = m.node_fields.length;
  const ew = m.edge_fields.length;
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => m.node_fields.indexOf(f)) as [number, number, number, number];
  const types = m.node_types[0];
  const edgeTypes = m.edge_types[0];
  const count = s.nodes.length / w;
  const label: string[] = new Array(count);
  const parent = new Int32Array(count).fill(-1);
  const via: string[] = new Array(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const i = n * w;
    const type = types[s.nodes[i + iType]!]!;
    const props: string[] = [];
    for (let k = 0; k < s.nodes[i + iEdges]!; k++, e += ew) {
      const et = edgeTypes[s.edges[e]!]!;
      const to = s.edges[e + 2]! / w;
      const name = et === 'element' || et === 'hidden' ? String(s.edges[e + 1]) : s.strings[s.edges[e + 1]!]!;
      if (et === 'property' && name !== '__proto__' && props.length < 6) props.push(name);
      if (parent[to] === -1 && et !== 'weak') {
        parent[to] = n;
        via[to] = `${et}:${name}`.slice(0, 40);
      }
    }
    const name = s.strings[s.nodes[i + iName]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') label[n] = '(string)';
    else if (type === 'object' && name === 'Object') label[n] = `Object{${props.join(',')}}`;
    else if (type !== 'object') label[n] = `(${type}) ${name.slice(0, 30)}`;
    else label[n] = name;
  }
  const out = new Map<string, { count: number; bytes: number }>();
  for (let n = 0; n < count; n++) {
    let k = label[n]!;
    if (byRetainer(k)) k += parent[n]! >= 0 ? ` <- ${label[parent[n]!]!.slice(0, 50)} .${via[n]}` : ' <- ?';
    const t = out.get(k) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[n * w + iSize]!;
    out.set(k, t);
  }
  return out;
}

const [before, after, itemsArg, rowsArg] = process.argv.slice(2);
const items = Number(itemsArg);
if (!before || !after || !Number.isInteger(items) || items < 1) {
  process.stderr.write('usage: node harness/bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> <items added, ≥ 1> [rows]\n');
  process.exit(2);
}
const a = totals(before);
const b = totals(after);
const rows = [...b].map(([k, v]) => {
  const u = a.get(k) ?? { count: 0, bytes: 0 };
  return { k, count: (v.count - u.count) / items, bytes: (v.bytes - u.bytes) / items };
});
const sum = rows.reduce((x, r) => x + r.bytes, 0) - [...a].filter(([k]) => !b.has(k)).reduce((x, [, v]) => x + v.bytes / items, 0);
rows.sort((x, y) => y.bytes - x.bytes);
console.log(`${sum.toFixed(1)} bytes per item in all (self sizes as the snapshots give them)`);
for (const r of rows.slice(0, Number(rowsArg ?? 40))) console.log(`${r.bytes.toFixed(1).padStart(8)} B ${r.count.toFixed(2).padStart(6)} objs  ${r.k}`);
