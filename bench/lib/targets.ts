/**
 * The servers the bench compares: holdline (in memory and on Redis), the raw node:http
 * baseline, and Nchan (nginx + nchan, C) when it is installed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Auth } from '../../lib/trust/auth.js';
import { findNchan, startNchan } from './nchan.js';
import type { ServerProcess } from './proc.js';

export type TargetName = 'holdline' | 'holdline-redis' | 'baseline' | 'nchan';

/** How to start one server and publish to it. */
export interface Target {
  name: TargetName;
  argv: string[];
  env: Record<string, string>;
  token: string;
  /** Set when the server cannot be run from this checkout. */
  missing?: string;
  /** The protocol the simulator speaks to it. @default 'holdline' */
  protocol?: 'holdline' | 'nchan';
  /** Starts a server that is not a node process taking PORT (Nchan); else argv is spawned. */
  start?: (core: number | null) => Promise<ServerProcess>;
  /** What it is, for the results file. */
  version?: string;
}

/**
 * The V8 flags holdline runs with wherever it is started (the Dockerfile's CMD, npm start, the
 * bin's shebang; test/ops.chart.test.ts keeps them in step). The baseline gets the same, so a
 * ratio compares the servers' code, not their heap settings.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** Where the servers come from and how node runs them. */
export interface TargetOptions {
  /** A checkout whose holdline to run instead of this one's (a "before" measured with today's harness). @default root */
  holdlineRoot?: string;
  /** @default SERVER_NODE_FLAGS */
  nodeFlags?: readonly string[];
  /** Why Nchan is not there (e.g. not installed and not allowed to install it); checked when null. */
  nchanMissing?: string | null;
}

/** Resolve both targets from the repository root: compiled JS when built, else tsx. */
export async function resolveTargets(root: string, options: TargetOptions = {}): Promise<Target[]> {
  const flags = options.nodeFlags ?? SERVER_NODE_FLAGS;
  const secret = randomBytes(32).toString('hex');
  // Minted by holdline's own Auth: only lib/trust/auth.ts may import jose (test/layering.test.ts).
  const token = await new Auth({ secret, issuer: null, audience: null }).mint({ sub: 'bench', scope: 'publish admin' }, 7200);
  const node = process.execPath;
  const pick = (from: string, js: string, ts: string, args: string[]): string[] | null => {
    if (existsSync(path.join(from, js))) return [node, ...flags, path.join(from, js), ...args];
    // `--import tsx` resolves from the working directory: the runner works from the root.
    if (existsSync(path.join(from, ts))) return [node, ...flags, '--import', 'tsx', path.join(from, ts), ...args];
    return null;
  };
  const holdline = pick(options.holdlineRoot ?? root, 'dist/bin/holdline.js', 'bin/holdline.ts', ['serve']);
  const baseline = pick(root, 'dist/bench/baseline/server.js', 'bench/baseline/server.ts', []);
  // Request logging is not what is being measured; both get the same hold, ring and batch.
  const shared = { HOLD_TIMEOUT_MS: '25000', RING_SIZE: '1024', MAX_BATCH: '256', NODE_ENV: 'production' };
  // Every simulated fan comes from 127.0.0.1: the per-address anonymous budget would stand for
  // one host, not a stadium, so it is lifted here (the per-viewer limit still applies).
  const oneAddressIsACrowd = { RATE_ADDRESS_REACTIONS: '999999/10', RATE_ADDRESS_JOINS: '999999/10' };
  return [
    {
      name: 'holdline',
      argv: holdline ?? [],
      env: { ...shared, ...oneAddressIsACrowd, JWT_SECRET: secret, LOG_LEVEL: 'warn' },
      token,
      missing: holdline ? undefined : 'bin/holdline.ts is not on this branch yet (the core server has not landed)',
    },
    {
      // Same server on a real Redis (REDIS_URL, default 127.0.0.1:6379), its own key prefix.
      name: 'holdline-redis',
      argv: holdline ?? [],
      env: {
        ...shared,
        ...oneAddressIsACrowd,
        JWT_SECRET: secret,
        LOG_LEVEL: 'warn',
        REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
        REDIS_PREFIX: `hl-bench-${randomBytes(4).toString('hex')}:`,
      },
      token,
      missing: holdline ? undefined : 'bin/holdline.ts is not on this branch yet',
    },
    {
      name: 'baseline',
      argv: baseline ?? [],
      env: shared,
      token,
      missing: baseline ? undefined : 'bench/baseline/server.ts missing',
    },
    nchanTarget(token, options.nchanMissing ?? null),
  ];
}

/** Nchan with the same hold and buffer as the others, when installed. */
function nchanTarget(token: string, missing: string | null): Target {
  const install = findNchan();
  return {
    name: 'nchan',
    argv: [],
    env: {},
    token,
    protocol: 'nchan',
    version: install?.version,
    missing: install ? undefined : (missing ?? 'nginx with libnginx-mod-nchan is not installed (bench/run.ts --install-nchan installs it on Debian)'),
    start: (core) => startNchan(install!, core, { bufferLength: 1024, holdSec: 25 }),
  };
}
