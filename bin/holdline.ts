#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * The process entry, and the one place that wires configuration, store, hub and HTTP together.
 * Commands: `serve [--demo]` and
 * `token [--sub ID] [--name N] [--scope "publish admin"] [--events a,b] [--ttl S] [--private-key FILE] [--kid K]`.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { DestinationStream } from 'pino';
import { Auth, signToken, type SigningKey, type TokenClaims } from '../lib/trust/auth.js';
import { systemClock, type Clock } from '../lib/util/clock.js';
import { ConfigError, loadConfig, type Config } from '../lib/config.js';
import { Hub } from '../lib/hub.js';
import { createHandler } from '../lib/http/app.js';
import { createServer, drainServer, listen, type ServerDrain } from '../lib/http/server.js';
import { createLogger, type Logger } from '../lib/ops/log.js';
import { Metrics } from '../lib/ops/metrics.js';
import { InstrumentedStore } from '../lib/store/instrumented.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { runSimulateCli } from '../tools/simulator/index.js';
import { RedisStore } from '../lib/store/redis/store.js';
import type { Store } from '../lib/store/types.js';
import { DEMO_EVENTS, playDemos } from '../demo/demo.js';

/** A running server and how to stop it. */
export interface Service {
  url: string;
  port: number;
  config: Readonly<Config>;
  hub: Hub;
  store: Store;
  auth: Auth;
  server: Server;
  metrics: Metrics;
  logger: Logger;
  /**
   * Drains: /readyz and new requests 503, held polls answered with their cursors, the listener
   * closed, in-flight requests finished (for at most DRAIN_TIMEOUT_MS less a reserve), stats
   * written, the store closed. Idempotent. Resolves with how many requests the deadline cut.
   */
  close(): Promise<ServerDrain>;
}

export interface ServiceOptions {
  clock?: Clock;
  /** Where the JSON log lines go (tests capture them). @default stdout */
  logDestination?: DestinationStream;
  /** Process metrics in /metrics. @default true */
  processMetrics?: boolean;
}

/** Builds the store the configuration asks for. */
async function openStore(config: Readonly<Config>): Promise<Store> {
  const options = {
    ringSize: config.ringSize,
    chatHistory: config.chatHistory,
    maxEvents: config.maxEvents,
    idempotencyTtlMs: config.idempotencyTtlMs,
    idempotencyMax: config.idempotencyMax,
    statsMaxEvents: config.statsMaxEvents,
  };
  if (config.redisUrl === null) return new MemoryStore(options);
  return new RedisStore({ ...options, url: config.redisUrl, keyPrefix: config.redisPrefix });
}

/** The token verifier the configuration asks for. */
export function createAuth(config: Readonly<Config>, clock: Clock = systemClock): Auth {
  return new Auth({
    secret: config.jwtSecret,
    publicKey: config.jwtPublicKey,
    jwksUrl: config.jwtJwksUrl,
    jwks: { cacheMs: config.jwksCacheMs, cooldownMs: config.jwksCooldownMs, timeoutMs: config.jwksTimeoutMs },
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    clockToleranceS: config.jwtClockToleranceS,
    tokenCacheMax: config.tokenCacheMax,
    clock,
  });
}

/** Starts the whole service on the configured address (port 0 picks a free one). */
export async function startService(config: Readonly<Config>, options: ServiceOptions = {}): Promise<Service> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  // The sources are read at scrape time, after `hub` exists.
  const metrics: Metrics = new Metrics(
    {
      heldPolls: () => hub.heldPolls,
      draining: () => hub.draining,
      eventsOpen: () => hub.eventsOpen(),
      viewerTotals: (topN) => hub.viewerTotals(topN),
    },
    { topEvents: config.metricsTopEvents, processMetrics: options.processMetrics ?? true },
  );
  const store: Store = new InstrumentedStore(await openStore(config), metrics);
  // Background failures (a reaction window that could not be appended) are warnings with their cause.
  const log = (line: string, err?: unknown) => logger.warn(err === undefined ? {} : { err }, line);
  const hub: Hub = new Hub(store, clock, { ...config, log, observer: metrics });
  const auth = createAuth(config, clock);
  const server = createServer(createHandler({ hub, config, metrics, auth, logger }), config) as Server;
  const port = await listen(server, config.port, config.host);
  const scheme = config.tlsCert ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<ServerDrain> | null = null;

  const close = (): Promise<ServerDrain> =>
    (closing ??= (async () => {
      const start = performance.now();
      logger.info({ heldPolls: hub.heldPolls }, 'drain started');
      const answered = await hub.drain();
      logger.info({ answered, ms: Math.round(performance.now() - start) }, 'held polls answered');
      // Keep a reserve of the budget for writing stats and closing the store.
      const reserve = Math.min(1000, config.drainTimeoutMs / 4);
      const wait = Math.max(0, config.drainTimeoutMs - reserve - (performance.now() - start));
      const { cut } = await drainServer(server, wait);
      if (cut > 0) logger.warn({ cut, waitedMs: Math.round(wait) }, 'in-flight requests cut at the drain deadline');
      await hub.close();
      await store.close();
      logger.info({ ms: Math.round(performance.now() - start), cut }, 'drained');
      return { cut };
    })());

  return { url: `${scheme}://${host}:${port}`, port, config, hub, store, auth, server, metrics, logger, close };
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

/** The exit code of a drain that had to cut requests (or did not finish): docs/OPERATIONS.md. */
export const EXIT_DRAIN_CUT = 3;

/** `holdline serve`: runs until SIGTERM/SIGINT, then drains and exits 0, or EXIT_DRAIN_CUT when it cut requests. */
async function serve(argv: string[]): Promise<void> {
  const opts = flags(argv);
  const config = loadConfig(process.env);
  const service = await startService(config);
  const { logger } = service;
  // Human-facing text (the dev banner, demo hints) goes to stderr, never into the JSON logs.
  const say = (line: string) => process.stderr.write(`${line}\n`);
  logger.info({ url: service.url, port: service.port, store: service.store.kind }, 'listening');
  const token = service.auth.devMode ? await service.auth.mint({ sub: 'dev-admin', name: 'Dev Admin', scope: 'publish admin' }) : null;
  if (token) {
    logger.warn('development mode: no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL; an admin token is printed on stderr');
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
      playDemos(service.url, publisherToken, demo.signal, (line) => logger.warn(line), coachToken);
    }
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C or SIGTERM must not kill the drain half way (and exit non-zero).
      logger.warn({ signal }, 'already draining');
      return;
    }
    stopping = true;
    logger.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'draining');
    demo.abort();
    // The last resort: whatever still hangs (a store that will not close), exit within the budget.
    const force = setTimeout(() => {
      logger.warn('drain did not finish within DRAIN_TIMEOUT_MS; exiting');
      process.exit(EXIT_DRAIN_CUT);
    }, config.drainTimeoutMs);
    force.unref();
    service.close().then(
      // An orchestrator can tell a clean roll from one that cut requests short.
      ({ cut }) => process.exit(cut > 0 ? EXIT_DRAIN_CUT : 0),
      (err: unknown) => {
        logger.error({ err }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A bug that escapes every handler: say so in the logs (not only as stderr text), then die.
  const fatal = (what: string) => (err: unknown) => {
    logger.fatal({ err }, what);
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
}

/**
 * `holdline token`: prints a token for the given claims, signed with JWT_SECRET, or with
 * `--private-key FILE` (PEM; RS256, ES256/384/512 or EdDSA by its type) and optional `--kid`.
 */
async function token(argv: string[]): Promise<void> {
  const opts = flags(argv);
  const config = loadConfig(process.env);
  const keyFile = opts.get('private-key');
  const kid = opts.get('kid');
  let key: SigningKey;
  if (keyFile) key = { privateKey: readFileSync(keyFile, 'utf8'), ...(kid ? { kid } : {}) };
  else if (config.jwtSecret) key = { secret: config.jwtSecret, ...(kid ? { kid } : {}) };
  else throw new Error('holdline token needs JWT_SECRET or --private-key FILE');
  const claims: TokenClaims = {};
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
  const signed = await signToken(claims, key, { ttlS: ttl, issuer: config.jwtIssuer, audience: config.jwtAudience });
  process.stdout.write(`${signed}\n`);
}

/** Runs a command line; exits 2 with a message on bad configuration or arguments. */
async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  try {
    if (command === 'serve') await serve(rest);
    else if (command === 'token') await token(rest);
    else if (command === 'simulate') process.exitCode = await runSimulateCli(rest);
    else throw new Error(`unknown command "${command}": use serve, token or simulate`);
  } catch (err) {
    process.stderr.write(`holdline: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main(process.argv.slice(2));
