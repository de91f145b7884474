/// <reference path="../../public/holdline.d.ts" />
/**
 * The browser client's hold and retry rule (HoldPolicy in public/holdline.js), loaded from that
 * very file so the simulator's viewers adapt their holds to the path and tell a cut from an
 * outage exactly as real widgets do: one rule, written once.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/** public/ at the repository root, copied to dist/public by the build: two levels up from here either way. */
const CLIENT_FILE = fileURLToPath(new URL('../../public/holdline.js', import.meta.url));

let loaded: Holdline.Static | null = null;

/** holdline.js run as a browser runs it (a plain script), in a context with nothing of a browser. */
function holdline(): Holdline.Static {
  if (loaded === null) {
    const sandbox: Record<string, unknown> = {};
    vm.createContext(sandbox);
    vm.runInContext(readFileSync(CLIENT_FILE, 'utf8'), sandbox, { filename: CLIENT_FILE });
    loaded = sandbox['Holdline'] as Holdline.Static;
  }
  return loaded;
}

/** A HoldPolicy for one simulated viewer (no storage: each simulated viewer is a fresh page). */
export function holdPolicy(options: Holdline.HoldPolicyOptions): Holdline.HoldPolicy {
  return new (holdline().HoldPolicy)(options);
}

/** The Holdline-Hold header in ms, as the browser client reads it. */
export function parseHoldHeader(value: string | null): { timeoutMs: number; maxMs: number } | null {
  return holdline().parseHoldHeader(value);
}
