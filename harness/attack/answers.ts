// What the hostile clients sent and what came back. Each attack records, per input, the
// kind of bad input it was (a key of PROTOCOL_ANSWERS) and the answer it got, written as
// a short string:
//   error:<code>        an `error` frame without `id`;  error:<code>#id  one echoing the request's id
//   pong#id, ok#id, page#id   the request's result frame
//   close:<code>        the server closed the WebSocket with this code
//   http:<status>:<code>  an HTTP answer (code from its JSON body; `nojson` when it had none)
//   closed             the server closed the TCP socket;  none  nothing within the wait
// The attacks only record; harness/checks/answers.ts compares with PROTOCOL_ANSWERS.

/** One recorded answer that PROTOCOL.md does not allow for its kind of input (kept for the witness). */
export interface AnswerExample {
  attack: string;
  kind: string;
  node: string;
  at: number;
  /** the input, shortened to 200 characters */
  input: string;
  got: string;
}

/** Counts per attack: inputs tried, answers by (kind, answer). */
export interface AttackCounts {
  attack: string;
  tried: number;
  /** `<kind> → <answer>` → how many */
  answers: Record<string, number>;
}

export interface AttackRecord {
  attacks: AttackCounts[];
  /** the first few inputs of each (kind, answer) pair, so a witness can quote one */
  examples: AnswerExample[];
}

const EXAMPLES_PER_PAIR = 3;
const MAX_INPUT = 200;

/** Collects counts for every attack; bounded memory whatever the number of inputs. */
export class AnswerLog {
  readonly #attacks = new Map<string, AttackCounts>();
  readonly #examples = new Map<string, AnswerExample[]>();

  /** One input tried (counted even when no answer is recorded for it, e.g. a socket reset by us). */
  tried(attack: string, n = 1): void {
    this.#counts(attack).tried += n;
  }

  /** The answer one input got. */
  answer(attack: string, kind: string, node: string, input: string, got: string): void {
    const key = `${kind} → ${got}`;
    const c = this.#counts(attack);
    c.answers[key] = (c.answers[key] ?? 0) + 1;
    const exKey = `${attack}\n${key}`;
    let ex = this.#examples.get(exKey);
    if (!ex) this.#examples.set(exKey, (ex = []));
    if (ex.length < EXAMPLES_PER_PAIR) ex.push({ attack, kind, node, at: Date.now(), input: input.length > MAX_INPUT ? `${input.slice(0, MAX_INPUT)}…(${input.length} chars)` : input, got });
  }

  /** tried + answer in one call. */
  one(attack: string, kind: string, node: string, input: string, got: string): void {
    this.tried(attack);
    this.answer(attack, kind, node, input, got);
  }

  record(): AttackRecord {
    return { attacks: [...this.#attacks.values()].map((a) => ({ ...a, answers: { ...a.answers } })), examples: [...this.#examples.values()].flat() };
  }

  #counts(attack: string): AttackCounts {
    let c = this.#attacks.get(attack);
    if (!c) this.#attacks.set(attack, (c = { attack, tried: 0, answers: {} }));
    return c;
  }
}

/** Short printable form of an input (binary shown as hex). */
export function show(input: string | Buffer): string {
  return typeof input === 'string' ? input : `<${input.length} bytes: ${input.subarray(0, 32).toString('hex')}${input.length > 32 ? '…' : ''}>`;
}
