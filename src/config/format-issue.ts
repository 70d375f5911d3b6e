/** Turns a zod issue into one line naming the key path, the value received and what was expected. */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

export function formatIssue(issue: Issue, input: unknown, schema: z.ZodType): string {
  const path = issue.path.map(String);
  const key = path.join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const valid = keysAt(schema, path);
      const where = path.length === 0 ? 'at the top level' : `in '${key}'`;
      const names = issue.keys.map((k) => `'${[...path, k].join('.')}'`).join(', ');
      return `unknown key ${names}${valid.length > 0 ? `; valid keys ${where}: ${valid.join(', ')}` : ''}`;
    }
    case 'invalid_type': {
      const value = valueAt(input, path);
      if (value === undefined) return `key '${key}' is missing; expected ${article(issue.expected)}`;
      return `key '${key}' is ${describe(value)}; expected ${article(issue.expected)}`;
    }
    default:
      return `key '${key}' is ${describe(valueAt(input, path))}: ${lowerFirst(issue.message)}`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `${JSON.stringify(value)} (array)`;
  return `${JSON.stringify(value) ?? String(value)} (${typeof value})`;
}

function valueAt(input: unknown, path: readonly string[]): unknown {
  let node = input;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The keys an object schema accepts at `path`, through defaults, optionals and unions. */
function keysAt(schema: z.ZodType, path: readonly string[]): string[] {
  let nodes: unknown[] = [schema];
  for (const part of [...path, null]) {
    const next: unknown[] = [];
    for (const node of nodes.flatMap(unwrap)) {
      const shape = (node as { shape?: Record<string, unknown> }).shape;
      if (shape === undefined) continue;
      if (part === null) return Object.keys(shape);
      if (shape[part] !== undefined) next.push(shape[part]);
    }
    nodes = next;
  }
  return [];
}

/** The object schemas under wrappers (default, prefault, optional, nullable, pipe) and union options. */
function unwrap(node: unknown): unknown[] {
  const def = (node as { def?: { innerType?: unknown; in?: unknown; options?: unknown[] } }).def;
  if (def === undefined) return [];
  if (def.options !== undefined) return def.options.flatMap(unwrap);
  if (def.innerType !== undefined) return unwrap(def.innerType);
  if (def.in !== undefined) return unwrap(def.in);
  return [node];
}
