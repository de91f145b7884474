#!/usr/bin/env node
/**
 * The process entry, and the one place that wires configuration, store, hub and HTTP together.
 * Commands: `serve [--demo]` and `token [--sub ID] [--scope "publish admin"] [--events a,b] [--ttl S]`.
 */
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Auth } from '../lib/auth.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ConfigError, loadConfig, type Config } from '../lib/config.js';
import { Hub } from '../lib/hub.js';
import { createApp } from '../lib/http/app.js';
import { createServer, listen } from '../lib/http/server.js';
import { Metrics } from '../lib/metrics.js';
import { MemoryStore } from '../lib/store/memory.js';
import { RedisStore } from '../lib/store/redis.js';
import type { Store } from '../lib/store/types.js';
import { DEMO_EVENTS, playDemos } from '../examples/publishers/demo.js';

/** A running server and how to stop it. */
export interface Service {
  url: string;
  port: number;
  config: Readonly<Config>;
  hub: Hub;
  store: Store;
  auth: Auth;
  server: Server;
  /** Answers held polls, stops listening, finishes in-flight requests, closes the store. Idempotent. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: Clock;
  /** Where 5xx causes and lifecycle lines go. @default console.error */
  log?: (line: string, err?: unknown) => void;
}

/** Builds the store the configuration asks for. */
async function openStore(config: Readonly<Config>): Promise<Store> {
  const options = {
    ringSize: config.ringSize,
    chatHistory: config.chatHistory,
    maxEvents: config.maxEvents,
    idempotencyTtlMs: config.idempotencyTtlMs,
    idempotencyMax: config.idempotencyMax,
  };
  if (config.redisUrl === null) return new MemoryStore(options);
  return new RedisStore({ ...options, url: config.redisUrl, keyPrefix: config.redisPrefix });
}

/** Starts the whole service on the configured address (port 0 picks a free one). */
export async function startService(config: Readonly<Config>, options: ServiceOptions = {}): Promise<Service> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string, err?: unknown) => console.error(line, err ?? ''));
  const store = await openStore(config);
  const hub = new Hub(store, clock, { ...config, log });
  const auth = new Auth({ secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience });
  const metrics = new Metrics({ heldPolls: () => hub.heldPolls });
  const app = createApp({ hub, config, metrics, auth, log: (err, ctx) => log(`error on ${ctx.method} ${ctx.path}`, err) });
  const server = createServer(app, config) as Server;
  const port = await listen(server, config.port, config.host);
  const scheme = config.tlsCert ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await hub.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Connections that were busy become idle once their answer is written; close those too.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.drainTimeoutMs).unref());
      await Promise.race([closed, deadline]);
      clearInterval(sweep);
      server.closeAllConnections();
      hub.close();
      await store.close();
    })());

  return { url: `${scheme}://${host}:${port}`, port, config, hub, store, auth, server, close };
}

/** Parses `--name value` flags; a flag without a value is "true". */
function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out.set(arg.slice(2), 'true');
    else out.set(arg.slice(2), (i++, next));
  }
  return out;
}

/** `holdline serve`: runs until SIGTERM/SIGINT, then drains and exits 0. */
async function serve(argv: string[]): Promise<void> {
  const opts = flags(argv);
  const config = loadConfig(process.env);
  const service = await startService(config);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`holdline listening on ${service.url} (store: ${service.store.kind})`);
  const token = service.auth.devMode ? await service.auth.mint({ sub: 'dev-admin', name: 'Dev Admin', scope: 'publish admin' }) : null;
  if (token) {
    say('');
    say('*** DEVELOPMENT MODE: no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is set. ***');
    say('*** Tokens are signed with a random secret made at start. Admin token (24 h):  ***');
    say(token);
    say('');
  }
  const demo = new AbortController();
  if (opts.get('demo') === 'true') {
    const publisherToken = token ?? (await service.auth.mint({ sub: 'demo', scope: 'publish' }).catch(() => null));
    if (publisherToken) {
      const coachToken = await service.auth.mint({ sub: 'coach-hale', name: 'Coach Hale' }).catch(() => undefined);
      say(`demo: playing ${DEMO_EVENTS.join(', ')}. Watch them at ${service.url}/demo/ or:`);
      say(`  curl -s '${service.url}/events/demo-cricket/poll'            # join: snapshot and cursor`);
      say(`  curl -s '${service.url}/events/demo-cricket/poll?cursor=<cursor>'   # held until the next ball`);
      playDemos(service.url, publisherToken, demo.signal, say, coachToken);
    }
  }
  const stop = (signal: string) => {
    say(`${signal}: draining`);
    demo.abort();
    const force = setTimeout(() => process.exit(0), config.drainTimeoutMs + 1000);
    force.unref();
    service.close().then(
      () => process.exit(0),
      (err) => {
        say(`drain failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** `holdline token`: prints a token signed with JWT_SECRET for the given claims. */
async function token(argv: string[]): Promise<void> {
  const opts = flags(argv);
  const config = loadConfig(process.env);
  if (!config.jwtSecret) throw new Error('holdline token needs JWT_SECRET');
  const auth = new Auth({ secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience });
  const claims: { sub?: string; name?: string; scope?: string; events?: string[] } = {};
  const sub = opts.get('sub');
  if (sub) claims.sub = sub;
  const name = opts.get('name');
  if (name) claims.name = name;
  const scope = opts.get('scope');
  if (scope) claims.scope = scope;
  const events = opts.get('events');
  if (events) claims.events = events.split(',');
  const ttl = Number(opts.get('ttl') ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error('--ttl must be a positive number of seconds');
  process.stdout.write(`${await auth.mint(claims, ttl)}\n`);
}

/** Runs a command line; exits 2 with a message on bad configuration or arguments. */
async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  try {
    if (command === 'serve') await serve(rest);
    else if (command === 'token') await token(rest);
    else throw new Error(`unknown command "${command}": use serve or token`);
  } catch (err) {
    process.stderr.write(`holdline: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main(process.argv.slice(2));
