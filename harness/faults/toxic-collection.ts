// A proxy's toxics (Toxiproxy's toxic_collection.go): one chain per
// direction, each headed by a hidden noop, mirrored into every live link.

import { ErrInvalidStream, ErrInvalidToxicType, ErrToxicAlreadyExists, ErrToxicNotFound } from './api-error.ts';
import type { Connection } from './connection.ts';
import { ToxicLink } from './link.ts';
import { float32 } from './json.ts';
import { parseToxicAttributes, type ToxicCreateInput, type ToxicUpdateInput } from './schemas.ts';
import { Mutex } from './sync.ts';
import { NoopToxic, toxicRegistry, type Toxic } from './toxics/index.ts';

export type Direction = 'upstream' | 'downstream';

/** Upstream first: the order Toxiproxy lists toxics in. */
export const DIRECTIONS: readonly Direction[] = ['upstream', 'downstream'];

/** stream.ParseDirection: case-insensitive. */
export function parseDirection(stream: string): Direction | undefined {
  const lower = stream.toLowerCase();
  return lower === 'upstream' || lower === 'downstream' ? lower : undefined;
}

export interface ToxicJson {
  attributes: Record<string, number>;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
}

/** A toxic as configured through the API, shared by every link of the proxy. */
export class ToxicWrapper {
  readonly name: string;
  readonly type: string;
  /** As the client spelled it; `direction` is the parsed value. */
  readonly stream: string;
  readonly direction: Direction;
  toxicity: number;
  toxic: Toxic;

  constructor(init: { name: string; type: string; stream: string; direction: Direction; toxicity: number; toxic: Toxic }) {
    this.name = init.name;
    this.type = init.type;
    this.stream = init.stream;
    this.direction = init.direction;
    this.toxicity = init.toxicity;
    this.toxic = init.toxic;
  }

  toJSON(): ToxicJson {
    return {
      attributes: this.toxic.attributes(),
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity: float32(this.toxicity),
    };
  }
}

function noopWrapper(direction: Direction): ToxicWrapper {
  return new ToxicWrapper({ name: '', type: 'noop', stream: direction, direction, toxicity: 1, toxic: new NoopToxic() });
}

export class ToxicCollection {
  readonly #chains: Record<Direction, ToxicWrapper[]> = {
    upstream: [noopWrapper('upstream')],
    downstream: [noopWrapper('downstream')],
  };
  readonly #links = new Set<ToxicLink>();
  // Held across a whole change, including the wait for every live link to
  // apply it, so changes and new connections never interleave.
  readonly #mutex = new Mutex();

  list(): ToxicWrapper[] {
    return DIRECTIONS.flatMap((direction) => this.#chains[direction].slice(1));
  }

  get(name: string): ToxicWrapper | undefined {
    return this.list().find((toxic) => toxic.name === name);
  }

  /** Creates a toxic, checking in Toxiproxy's order: stream, type, name clash, attributes. */
  add(input: ToxicCreateInput): Promise<ToxicWrapper> {
    return this.#mutex.run(async () => {
      const stream = input.stream ?? 'downstream';
      const direction = parseDirection(stream);
      if (!direction) throw ErrInvalidStream;
      const type = input.type ?? '';
      const name = input.name || `${type}_${stream}`;
      const definition = toxicRegistry.get(type);
      if (!definition) throw ErrInvalidToxicType;
      if (this.get(name)) throw ErrToxicAlreadyExists;
      const attributes = parseToxicAttributes(definition, input.attributes);
      const wrapper = new ToxicWrapper({
        name,
        type,
        stream,
        direction,
        toxicity: input.toxicity ?? 1,
        toxic: definition.create(attributes),
      });
      const chain = this.#chains[direction];
      const previous = chain[chain.length - 1] ?? noopWrapper(direction);
      chain.push(wrapper);
      await Promise.all(this.#linksFor(direction).map((link) => link.addToxic(wrapper, previous)));
      return wrapper;
    });
  }

  /** Changes attributes (merged over the current ones) and/or toxicity; name, type and stream are fixed. */
  update(name: string, input: ToxicUpdateInput): Promise<ToxicWrapper> {
    return this.#mutex.run(async () => {
      const wrapper = this.get(name);
      if (!wrapper) throw ErrToxicNotFound;
      const definition = toxicRegistry.get(wrapper.type);
      if (!definition) throw ErrInvalidToxicType;
      const attributes = parseToxicAttributes(definition, input.attributes, wrapper.toxic.attributes());
      wrapper.toxic = definition.create(attributes);
      if (input.toxicity !== undefined) wrapper.toxicity = input.toxicity;
      const index = this.#chains[wrapper.direction].indexOf(wrapper);
      await Promise.all(this.#linksFor(wrapper.direction).map((link) => link.updateToxic(wrapper, index)));
      return wrapper;
    });
  }

  remove(name: string): Promise<void> {
    return this.#mutex.run(async () => {
      const wrapper = this.get(name);
      if (!wrapper) throw ErrToxicNotFound;
      await this.#removeFromChain(wrapper);
    });
  }

  /** Removes every toxic (POST /reset). */
  reset(): Promise<void> {
    return this.#mutex.run(async () => {
      for (const direction of DIRECTIONS) {
        for (let toxic = this.#chains[direction][1]; toxic; toxic = this.#chains[direction][1]) {
          await this.#removeFromChain(toxic);
        }
      }
    });
  }

  /** Starts both links of a freshly connected connection on the current chains. */
  startLinks(connection: Connection): Promise<void> {
    return this.#mutex.run(() => {
      if (connection.dead) return;
      const hooks = { resetPeer: () => connection.setLingerZero() };
      const upstream = new ToxicLink(this.#chains.upstream, 'upstream', hooks);
      const downstream = new ToxicLink(this.#chains.downstream, 'downstream', hooks);
      connection.attach([upstream, downstream]);
      for (const link of [upstream, downstream]) this.#links.add(link);
      // A link stops receiving toxic changes once it has finished writing.
      upstream.start(connection.client, connection.upstream, this.#chains.upstream, () => this.#links.delete(upstream));
      downstream.start(connection.upstream, connection.client, this.#chains.downstream, () =>
        this.#links.delete(downstream),
      );
    });
  }

  async #removeFromChain(wrapper: ToxicWrapper): Promise<void> {
    const chain = this.#chains[wrapper.direction];
    const index = chain.indexOf(wrapper);
    if (index < 1) return;
    chain.splice(index, 1);
    const previous = chain[index - 1] ?? noopWrapper(wrapper.direction);
    await Promise.all(
      this.#linksFor(wrapper.direction).map((link) => link.removeToxic(wrapper, index, previous)),
    );
  }

  #linksFor(direction: Direction): ToxicLink[] {
    return [...this.#links].filter((link) => link.direction === direction && !link.dead);
  }
}
