// Facts from an agent to the orchestrator while the run goes: in batches, gzipped, each
// acknowledged once the orchestrator has checked and kept it, with at most a few batches
// unacknowledged (backpressure: a slow orchestrator slows the shipping, and facts wait in
// the agent as they did before they were streamed). An agent that dies mid-run so leaves
// the orchestrator every fact shipped up to then.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { fact as factSchema, type Fact } from '../model/facts.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Facts in one batch at most (a fact is ~150–400 bytes of JSON). */
export const MAX_BATCH_FACTS = 5000;
/** Most bytes a batch may inflate to: a bigger one is refused (a bound on the orchestrator's memory per frame). */
export const MAX_BATCH_BYTES = 16 * 2 ** 20;
/** Batches unacknowledged at once. */
export const FACTS_WINDOW = 4;

/** [u32 batch number][gzip of NDJSON] */
export async function encodeFactBatch(seq: number, facts: readonly Fact[]): Promise<Buffer> {
  const body = await gzipAsync(Buffer.from(facts.map((f) => JSON.stringify(f)).join('\n')), { level: 1 });
  const head = Buffer.alloc(4);
  head.writeUInt32BE(seq);
  return Buffer.concat([head, body]);
}

export class FactBatchError extends Error {}

/** Checks a batch frame and returns its number and facts (each validated against the fact schema). */
export async function decodeFactBatch(frame: Buffer): Promise<{ seq: number; facts: Fact[] }> {
  if (frame.length < 5) throw new FactBatchError(`facts batch of ${frame.length} bytes: too short (4-byte batch number, then gzip)`);
  const seq = frame.readUInt32BE(0);
  let text: string;
  try {
    text = (await gunzipAsync(frame.subarray(4), { maxOutputLength: MAX_BATCH_BYTES })).toString('utf8');
  } catch (err) {
    throw new FactBatchError(`facts batch ${seq}: not gzip or over ${MAX_BATCH_BYTES} bytes inflated (${(err as Error).message})`);
  }
  const facts: Fact[] = [];
  const lines = text.split('\n');
  if (lines.length > MAX_BATCH_FACTS) throw new FactBatchError(`facts batch ${seq}: ${lines.length} facts, more than ${MAX_BATCH_FACTS}`);
  for (const [i, line] of lines.entries()) {
    if (!line) continue;
    const r = factSchema.safeParse(JSON.parse(line));
    if (!r.success) throw new FactBatchError(`facts batch ${seq}, fact ${i}: ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    facts.push(r.data);
  }
  return { seq, facts };
}

/**
 * The agent's side: takes facts out of `source` (the recorder's array, emptied as it ships)
 * and sends them in batches over `send`, never more than FACTS_WINDOW unacknowledged.
 */
export class FactShipper {
  private seq = 0;
  private acked = -1;
  private shipped = 0;
  private running: Promise<void> | null = null;
  private waiters: Array<() => void> = [];

  private readonly source: Fact[];
  private readonly send: (frame: Buffer) => void;

  constructor(source: Fact[], send: (frame: Buffer) => void) {
    this.source = source;
    this.send = send;
  }

  /** facts sent so far */
  get count(): number {
    return this.shipped;
  }

  ack(seq: number): void {
    if (seq > this.acked) this.acked = seq;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Ships what is there now (one call at a time; a second call waits for the first). */
  pump(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  /** Ships everything and waits until the orchestrator acknowledged it all. */
  async flush(): Promise<void> {
    while (this.source.length) await this.pump();
    await this.pump();
    while (this.acked < this.seq - 1) await this.waitAck();
  }

  private async drain(): Promise<void> {
    while (this.source.length) {
      while (this.seq - 1 - this.acked >= FACTS_WINDOW) await this.waitAck();
      const batch = this.source.splice(0, MAX_BATCH_FACTS);
      const frame = await encodeFactBatch(this.seq++, batch);
      this.shipped += batch.length;
      this.send(frame);
    }
  }

  private waitAck(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
