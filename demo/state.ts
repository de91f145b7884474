/**
 * What `serve --demo` keeps between runs, in `.holdline/` under the working directory (git
 * ignores it): the demo's signing secret and the admin token printed at start. The secret
 * persists so tokens minted with `holdline token` keep working across restarts of the demo, and
 * so `holdline token` can sign with it without anyone copying a secret around. Demo mode only:
 * a configured JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL always wins.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The folder, relative to the working directory. */
export const DEMO_DIR = '.holdline';
/** The demo's HS256 secret (64 hex characters). */
export const DEMO_SECRET_FILE = 'demo-secret';
/** The admin token `serve --demo` minted at its last start (24 h). */
export const DEMO_TOKEN_FILE = 'demo-token';

const SECRET = /^[0-9a-f]{64}$/;

/** The demo secret under `cwd`, or null when there is none (or it is not one of ours). */
export function readDemoSecret(cwd: string = process.cwd()): string | null {
  const path = join(cwd, DEMO_DIR, DEMO_SECRET_FILE);
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'utf8').trim();
  return SECRET.test(text) ? text : null;
}

/** The demo secret under `cwd`, made (32 random bytes, owner-only file) when missing or unreadable. */
export function demoSecret(cwd: string = process.cwd()): { secret: string; created: boolean } {
  const existing = readDemoSecret(cwd);
  if (existing !== null) return { secret: existing, created: false };
  const secret = randomBytes(32).toString('hex');
  writePrivate(cwd, DEMO_SECRET_FILE, `${secret}\n`);
  return { secret, created: true };
}

/** Writes the admin token where the README's commands read it; returns the path relative to `cwd`. */
export function writeDemoToken(token: string, cwd: string = process.cwd()): string {
  writePrivate(cwd, DEMO_TOKEN_FILE, `${token}\n`);
  return join(DEMO_DIR, DEMO_TOKEN_FILE);
}

/** Owner-only: the secret signs admin tokens. */
function writePrivate(cwd: string, name: string, text: string): void {
  const dir = join(cwd, DEMO_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  // writeFileSync keeps the mode of a file that already existed.
  chmodSync(path, 0o600);
}

/**
 * The environment `serve --demo` reads its configuration from: the request log at debug, and
 * the demo secret (made on the first run) unless a key is configured. Variables set win.
 */
export function demoEnv(env: Record<string, string | undefined>, cwd: string = process.cwd()): Record<string, string | undefined> {
  const keyed = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'].some((k) => (env[k] ?? '').trim() !== '');
  return { LOG_REQUESTS: 'debug', ...env, ...(keyed ? {} : { JWT_SECRET: demoSecret(cwd).secret }) };
}

/** The claims of a demo page's viewer: a guest name, no scope, the demo events only. */
export function guestClaims(events: readonly string[], random: () => number = Math.random): { sub: string; name: string; events: string[] } {
  const n = 1000 + Math.floor(random() * 9000);
  const tag = Math.floor(random() * 36 ** 4).toString(36).padStart(4, '0');
  return { sub: `guest-${n}-${tag}`, name: `Guest ${n}`, events: [...events] };
}

/** The block `serve --demo` prints once on stderr: where to look, the admin token and where it is kept. */
export function demoBanner(url: string, token: string | null, tokenFile: string | null): string[] {
  const rule = '-'.repeat(72);
  const lines = ['', rule, `  holdline demo: four live events at ${url}/demo/`, `  live dashboard:  ${url}/admin/`];
  if (token && tokenFile) {
    lines.push(
      '',
      `  Admin token (24 h), also written to ${tokenFile}:`,
      '',
      token,
      '',
      `  Publish with it:   TOKEN=$(cat ${tokenFile})`,
      '  Mint others:       npx holdline token --sub alice --scope publish',
      '                     (signed with .holdline/demo-secret, which this server trusts)',
    );
  } else {
    lines.push('', '  This server verifies tokens with a public key or key set: mint tokens with the private key.');
  }
  lines.push('  Request lines are logged at debug (LOG_REQUESTS=info to see them). Ctrl-C stops.', rule, '');
  return lines;
}
