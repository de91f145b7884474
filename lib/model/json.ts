import { HubError } from './errors.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Bounds on untrusted JSON. */
export interface JsonLimits {
  /** @default 32 */
  maxDepth: number;
}

/**
 * Checks untrusted parsed JSON: no deeper than maxDepth, and no key that could reach an
 * object's prototype anywhere. Throws 400 naming the path of the offending key.
 */
export function assertSafeJson(value: unknown, limits: JsonLimits = { maxDepth: 32 }, field = 'body'): void {
  // Iterative walk so a hostile body cannot exhaust the stack.
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 1, path: field }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limits.maxDepth) {
      throw new HubError('invalid_json', `JSON nests deeper than ${limits.maxDepth} levels`, { field: path });
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new HubError('invalid_request', `the key "${key}" is not allowed anywhere in a body`, {
          field: path === field && field === 'body' ? key : `${path}.${key}`,
        });
      }
      stack.push({ v: (v as Record<string, unknown>)[key], depth: depth + 1, path: `${path}.${key}` });
    }
  }
}

/** Parses JSON text from an untrusted body, mapping syntax errors to 400 invalid_json. */
export function parseJsonBody(text: string, limits?: JsonLimits): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HubError('invalid_json', `body is not valid JSON: ${(err as Error).message}`, { field: 'body' });
  }
  assertSafeJson(value, limits);
  return value;
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts Unicode code points, as the protocol measures lengths. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
