// Request bodies, validated with zod at the edge of the API.
//
// Decoding follows Go's encoding/json as Toxiproxy relies on it: object keys
// match field names case-insensitively, unknown keys are ignored, `null`
// leaves a field at its default, and a wrongly typed field is a 400 whose
// message names the field ("json: cannot unmarshal string into Go struct
// field Proxy.name of type string").

import { z } from 'zod';
import { ErrBadRequestBody, joinError } from './api-error.ts';
import { decodeFirstJsonValue, jsonKind } from './json.ts';
import type { ToxicDefinition } from './toxics/toxic.ts';

/** Absent and null both mean "leave the default", as in Go. */
function goOptional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

const goString = goOptional(z.string());
const goBool = goOptional(z.boolean());
const goFloat = goOptional(z.number());
const goInt = goOptional(z.number().int());
const goObject = goOptional(z.record(z.string(), z.unknown()));

export const ProxyBodySchema = z.object({
  name: goString,
  listen: goString,
  upstream: goString,
  enabled: goBool,
});
export type ProxyInput = z.output<typeof ProxyBodySchema>;

export const ToxicCreateSchema = z.object({
  name: goString,
  type: goString,
  stream: goString,
  toxicity: goFloat,
  attributes: goObject,
});
export type ToxicCreateInput = z.output<typeof ToxicCreateSchema>;

/** Only attributes and toxicity can change; other keys are ignored like Toxiproxy does. */
export const ToxicUpdateSchema = z.object({
  attributes: goObject,
  toxicity: goFloat,
});
export type ToxicUpdateInput = z.output<typeof ToxicUpdateSchema>;

interface GoTarget {
  /** Go type named when the whole value has the wrong JSON kind. */
  valueType: string;
  /** Struct named in field errors ("" for Go's anonymous structs). */
  struct: string;
  /** Prepended to field paths, e.g. "attributes.". */
  prefix?: string;
  /** Go type of each field; strings unless listed. */
  fieldTypes: Readonly<Record<string, string>>;
}

const PROXY_TARGET: GoTarget = {
  valueType: 'toxiproxy.Proxy',
  struct: 'Proxy',
  fieldTypes: { enabled: 'bool' },
};

const POPULATE_TARGET: GoTarget = {
  valueType: '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }',
  struct: '',
  fieldTypes: { enabled: 'bool' },
};

const TOXIC_CREATE_TARGET: GoTarget = {
  valueType: 'toxics.ToxicWrapper',
  struct: 'ToxicWrapper',
  fieldTypes: { toxicity: 'float32', attributes: 'toxics.NoopToxic' },
};

const TOXIC_UPDATE_TARGET: GoTarget = {
  valueType: 'struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }',
  struct: '',
  fieldTypes: { toxicity: 'float32', attributes: 'map[string]interface {}' },
};

/** Parses a request body's first JSON value; 400 "bad request body: ..." if it is not JSON. */
export function decodeBody(text: string): unknown {
  const decoded = decodeFirstJsonValue(text);
  if (!decoded.ok) throw joinError(decoded.message, ErrBadRequestBody);
  return decoded.value;
}

export function parseProxyBody(raw: unknown): ProxyInput {
  return decodeWith(ProxyBodySchema, canonicalize(raw, Object.keys(ProxyBodySchema.shape)), PROXY_TARGET);
}

export function parsePopulateBody(raw: unknown): ProxyInput[] {
  const keys = Object.keys(ProxyBodySchema.shape);
  const canonical = Array.isArray(raw) ? raw.map((item) => canonicalize(item, keys)) : raw;
  return decodeWith(z.array(ProxyBodySchema), canonical, POPULATE_TARGET);
}

export function parseToxicCreateBody(raw: unknown): ToxicCreateInput {
  return decodeWith(ToxicCreateSchema, canonicalize(raw, Object.keys(ToxicCreateSchema.shape)), TOXIC_CREATE_TARGET);
}

export function parseToxicUpdateBody(raw: unknown): ToxicUpdateInput {
  return decodeWith(ToxicUpdateSchema, canonicalize(raw, Object.keys(ToxicUpdateSchema.shape)), TOXIC_UPDATE_TARGET);
}

/**
 * A toxic's attributes: every field an integer, missing ones taken from
 * `base` (update) or 0 (create).
 */
export function parseToxicAttributes(
  definition: ToxicDefinition,
  raw: Record<string, unknown> | undefined,
  base: Readonly<Record<string, number>> = {},
): Record<string, number> {
  const fields = Object.keys(definition.fields);
  const schema = z.object(Object.fromEntries(fields.map((field) => [field, goInt])));
  const parsed = decodeWith(schema, canonicalize(raw ?? {}, fields), {
    valueType: `toxics.${definition.type}`,
    struct: '',
    prefix: 'attributes.',
    fieldTypes: definition.fields,
  });
  const attributes: Record<string, number> = {};
  for (const field of fields) attributes[field] = parsed[field] ?? base[field] ?? 0;
  return attributes;
}

/**
 * Maps an object's keys onto `fields` the way Go's decoder does (exact match
 * first, then case-insensitive; later keys win) and drops unknown keys.
 * null decodes into a struct as "no fields given".
 */
function canonicalize(raw: unknown, fields: readonly string[]): unknown {
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = fields.includes(key) ? key : fields.find((f) => f.toLowerCase() === key.toLowerCase());
    if (field !== undefined) result[field] = value;
  }
  return result;
}

function decodeWith<T extends z.ZodType>(schema: T, value: unknown, target: GoTarget): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const path = result.error.issues[0]?.path ?? [];
  throw joinError(describeTypeError(path, value, target), ErrBadRequestBody);
}

function describeTypeError(path: readonly PropertyKey[], root: unknown, target: GoTarget): string {
  let value: unknown = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  const fields = path.filter((key): key is string => typeof key === 'string');
  if (fields.length === 0) return `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${target.valueType}`;
  const field = fields.join('.');
  const goType = target.fieldTypes[field] ?? 'string';
  const kind = typeof value === 'number' && goType.startsWith('int') ? `number ${value}` : jsonKind(value);
  return `json: cannot unmarshal ${kind} into Go struct field ${target.struct}.${target.prefix ?? ''}${field} of type ${goType}`;
}
