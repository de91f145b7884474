import type { JsonObject, JsonValue } from '../protocol.js';

/**
 * Applies an RFC 7396 JSON merge patch and returns the result, leaving both inputs untouched.
 * Bodies with `__proto__`-style keys are refused before they get here (lib/model/json.ts); the
 * skip below is defence in depth, since assigning such a key would reach a prototype.
 */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: JsonObject =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const value = patch[key] as JsonValue;
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
