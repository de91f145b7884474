/** Reads a V8 .cpuprofile and summarises where the server's CPU went, by function and by package. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** A summary line: name and share of samples (0–1). */
export interface Share {
  name: string;
  share: number;
}

/** Where a frame comes from: a package, node's own code, the project, or V8's pseudo-frames. */
function origin(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(lib|routes|bin|bench)\/(.*)$/.exec(url);
  return own ? `holdline ${own[1]}/` : url;
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url) ?? /\/((?:lib|routes|bin|bench)\/.*)$/.exec(url);
  return m ? m[1]! : url.replace(/^file:\/\//, '');
}

/** Self-time shares of the top functions and of each origin in `file`. */
export function summarizeProfile(file: string, top = 12): { functions: Share[]; origins: Share[]; samples: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += hits;
    const name = url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const from = origin(url, functionName);
    byOrigin.set(from, (byOrigin.get(from) ?? 0) + hits);
  }
  const rank = (m: Map<string, number>, n: number): Share[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, hits]) => ({ name, share: total > 0 ? hits / total : 0 }));
  return { functions: rank(byFunction, top), origins: rank(byOrigin, 10), samples: total };
}
