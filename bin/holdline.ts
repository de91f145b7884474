#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * The process entry, and the one place that wires configuration, store, hub and HTTP together.
 * The commands (serve, token, simulate), their flags, help and exit statuses are bin/cli.ts.
 */
import { readFileSync, realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { DestinationStream } from 'pino';
import { Auth, signToken, type SigningKey, type TokenClaims } from '../lib/trust/auth.js';
import { systemClock, type Clock } from '../lib/util/clock.js';
import { ConfigError, loadConfig, requireKeys, type Config, type StartMode } from '../lib/config.js';
import { Hub } from '../lib/hub.js';
import { createHandler } from '../lib/http/app.js';
import { createMetricsServer } from '../lib/http/metrics-server.js';
import { Realtime } from '../lib/http/realtime.js';
import { createServer, drainServer, listen, type ServerDrain } from '../lib/http/server.js';
import { SseStreams } from '../lib/http/sse.js';
import { createLogger, type Logger } from '../lib/ops/log.js';
import { Dashboard } from '../lib/ops/dashboard.js';
import { Metrics } from '../lib/ops/metrics.js';
import { InstrumentedStore } from '../lib/store/instrumented.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { runSimulation } from '../tools/simulator/index.js';
import { RedisStore } from '../lib/store/redis/store.js';
import type { Store } from '../lib/store/types.js';
import { DEMO_EVENTS, demosReady, playDemos } from '../demo/demo.js';
import { demoBanner, demoEnv, guestClaims, readDemoSecret, writeDemoToken } from '../demo/state.js';
import { CliError, EXIT, runCli, type Actions, type Output, type ServeFlags, type TokenFlags } from './cli.js';

/** A running server and how to stop it. */
export interface Service {
  url: string;
  port: number;
  config: Readonly<Config>;
  hub: Hub;
  store: Store;
  auth: Auth;
  server: Server;
  /** The METRICS_PORT listener, when there is one. */
  metricsServer: Server | null;
  /** Its URL, when there is one. */
  metricsUrl: string | null;
  metrics: Metrics;
  logger: Logger;
  /** The WebSocket endpoint (/realtime) and the open SSE streams. */
  realtime: Realtime;
  sse: SseStreams;
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
  /** Demo mode (`serve --demo`): the demo pages get guest viewer tokens for these events. @default off */
  demo?: { events: readonly string[] };
}

/** Builds the store the configuration asks for. */
async function openStore(config: Readonly<Config>, clock: Clock): Promise<Store> {
  const options = {
    ringSize: config.ringSize,
    chatHistory: config.chatHistory,
    maxEvents: config.maxEvents,
    idempotencyTtlMs: config.idempotencyTtlMs,
    idempotencyMax: config.idempotencyMax,
    idempotencyMaxPerIdentity: config.idempotencyMaxPerIdentity,
    idempotencyViewerTtlMs: config.idempotencyViewerTtlMs,
    reactionTotalsMax: config.reactionTotalsMax,
    statsMaxEvents: config.statsMaxEvents,
  };
  if (config.redisUrl === null) return new MemoryStore(options);
  return new RedisStore({ ...options, url: config.redisUrl, keyPrefix: config.redisPrefix, clock });
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
  requireKeys(config);
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  // The sources are read at scrape time, after `hub` exists.
  const metrics: Metrics = new Metrics(
    {
      heldPolls: () => hub.heldPolls,
      streams: (transport) => hub.streams(transport),
      draining: () => hub.draining,
      eventsOpen: () => hub.eventsOpen(),
      viewerTotals: (topN) => hub.viewerTotals(topN),
    },
    { topEvents: config.metricsTopEvents, processMetrics: options.processMetrics ?? true, cacheMs: config.metricsCacheMs },
  );
  const store: Store = new InstrumentedStore(await openStore(config, clock), metrics);
  // Background failures (a reaction window that could not be appended) are warnings with their cause.
  const log = (line: string, err?: unknown) => logger.warn(err === undefined ? {} : { err }, line);
  const hub: Hub = new Hub(store, clock, { ...config, log, observer: metrics, streamObserver: metrics });
  const auth = createAuth(config, clock);
  const demoEvents = options.demo?.events;
  const demo = demoEvents ? { viewerToken: () => guestToken(auth, demoEvents) } : null;
  const sse = new SseStreams(config.streamHeartbeatMs);
  const realtime = new Realtime({ hub, config, auth, logger });
  const upgrade = realtime.upgrade.bind(realtime);
  const dashboard = new Dashboard(hub, metrics, clock, { log });
  const server = createServer(createHandler({ hub, config, metrics, auth, logger, demo, sse, dashboard }), config, upgrade) as Server;
  const port = await listen(server, config.port, config.host);
  const scheme = config.tlsCert ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const metricsServer = config.metricsPort === null ? null : createMetricsServer(metrics, config.metricsToken);
  const metricsPort = metricsServer === null ? null : await listen(metricsServer, config.metricsPort!, config.host);
  let closing: Promise<ServerDrain> | null = null;

  const close = (): Promise<ServerDrain> =>
    (closing ??= (async () => {
      const start = performance.now();
      logger.info({ heldPolls: hub.heldPolls }, 'drain started');
      await dashboard.close();
      const answered = await hub.drain();
      logger.info({ answered, ms: Math.round(performance.now() - start) }, 'held polls answered');
      // Keep a reserve of the budget for writing stats and closing the store.
      const reserve = Math.min(1000, config.drainTimeoutMs / 4);
      const wait = Math.max(0, config.drainTimeoutMs - reserve - (performance.now() - start));
      const { cut } = await drainServer(server, wait, [sse, realtime]);
      if (cut > 0) logger.warn({ cut, waitedMs: Math.round(wait) }, 'in-flight requests cut at the drain deadline');
      if (metricsServer !== null) {
        const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        metricsServer.closeAllConnections();
        await metricsClosed;
      }
      await hub.close();
      await store.close();
      logger.info({ ms: Math.round(performance.now() - start), cut }, 'drained');
      return { cut };
    })());

  dashboard.start();
  const metricsUrl = metricsPort === null ? null : `http://${host}:${metricsPort}`;
  return { url: `${scheme}://${host}:${port}`, port, config, hub, store, auth, server, metricsServer, metricsUrl, metrics, logger, realtime, sse, close };
}

/** A demo page's viewer token: a guest with a name, for the demo events, for an hour. */
async function guestToken(auth: Auth, events: readonly string[]): Promise<{ token: string; sub: string; name: string; expiresInS: number }> {
  const claims = guestClaims(events);
  const expiresInS = 3600;
  return { token: await auth.mint(claims, expiresInS), sub: claims.sub, name: claims.name, expiresInS };
}

/** The configuration from the environment (or `base`), with the command line's overrides; ConfigError is exit 3. */
function configFrom(overrides: Record<string, string | undefined> = {}, base: Record<string, string | undefined> = process.env, mode: StartMode = {}): Readonly<Config> {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  try {
    return loadConfig(env, mode);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 'config');
    throw err;
  }
}

/** The exit status of a drain that had to cut requests (or did not finish): docs/OPERATIONS.md. */
export const EXIT_DRAIN_CUT = EXIT.drainCut;

/** `holdline serve`: runs until SIGTERM/SIGINT, then drains and exits 0, or EXIT_DRAIN_CUT when it cut requests. */
async function serve(flags: ServeFlags): Promise<void> {
  // Demo mode's defaults are environment defaults: whatever the environment sets wins.
  const env = flags.demo ? demoEnv(process.env) : process.env;
  const config = configFrom({ PORT: flags.port === undefined ? undefined : String(flags.port), HOST: flags.host }, env, { dev: flags.dev });
  try {
    requireKeys(config);
  } catch (err) {
    throw new CliError((err as Error).message, 'config');
  }
  const service = await startService(config, flags.demo ? { demo: { events: DEMO_EVENTS } } : {}).catch((err: NodeJS.ErrnoException) => {
    // The address is the usual start-up failure; say which and what to do.
    if (err.code === 'EADDRINUSE') throw new CliError(`${config.host}:${config.port} is in use: stop what listens there, or pick another port (--port or PORT; 0 takes any free one)`, 'config');
    if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') throw new CliError(`cannot listen on ${config.host}:${config.port} (${err.code})`, 'config');
    throw err;
  });
  const { logger } = service;
  // Human-facing text (the token block, demo hints) goes to stderr, never into the JSON logs.
  const say = (line: string) => process.stderr.write(`${line}\n`);
  logger.info({ url: service.url, port: service.port, store: service.store.kind, ...(service.metricsUrl ? { metricsUrl: service.metricsUrl } : {}) }, 'listening');
  if (!config.dev && config.metricsPort === null && config.metricsToken === null) {
    logger.warn('/metrics is not served: set METRICS_PORT (a port of its own) or METRICS_TOKEN (a bearer token on this port)');
  }
  const mint = (claims: TokenClaims, ttlS?: number) => service.auth.mint(claims, ttlS).catch(() => null);
  const token = service.auth.devMode || flags.demo ? await mint({ sub: 'dev-admin', name: 'Dev Admin', scope: 'publish admin' }) : null;
  const demo = new AbortController();
  if (flags.demo) {
    const publisherToken = token ?? (await mint({ sub: 'demo', scope: 'publish' }));
    if (publisherToken) {
      const coachToken = (await mint({ sub: 'coach-hale', name: 'Coach Hale' })) ?? undefined;
      playDemos(service.url, publisherToken, demo.signal, (line) => logger.warn(line), coachToken, (sub, name) => mint({ sub, name, events: [...DEMO_EVENTS] }));
      // The block says "open /demo/": by then the events are there to follow.
      await demosReady(service.url, demo.signal);
    } else {
      logger.warn('demo: this server cannot sign tokens (JWT_PUBLIC_KEY or JWT_JWKS_URL), so the demo events are not played');
    }
    const tokenFile = token ? writeDemoToken(token) : null;
    for (const line of demoBanner(service.url, token, tokenFile)) say(line);
  } else if (token) {
    logger.warn('development mode (--dev): no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL; an admin token is printed on stderr');
    say('');
    say('*** DEVELOPMENT MODE: no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is set. ***');
    say('*** Tokens are signed with a random secret made at start. Admin token (24 h):  ***');
    say(token);
    say('');
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
async function token(flags: TokenFlags, output: Output): Promise<void> {
  const config = configFrom();
  let key: SigningKey;
  const kid = flags.kid ? { kid: flags.kid } : {};
  if (flags.privateKey) {
    let pem: string;
    try {
      pem = readFileSync(flags.privateKey, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read --private-key ${flags.privateKey}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'config');
    }
    key = { privateKey: pem, ...kid };
  } else if (config.jwtSecret) key = { secret: config.jwtSecret, ...kid };
  else {
    // No key given: sign for the demo server started in this folder (`npm start`), if there is one.
    const secret = readDemoSecret();
    if (secret === null) throw new CliError('holdline token needs a key: set JWT_SECRET (the secret the server verifies with) or pass --private-key FILE (or start the demo in this folder with `npm start`)', 'config');
    output.err('holdline: no JWT_SECRET or --private-key: signed with the demo secret in .holdline/demo-secret\n');
    key = { secret, ...kid };
  }
  const claims: TokenClaims = {};
  if (flags.sub) claims.sub = flags.sub;
  if (flags.name) claims.name = flags.name;
  if (flags.scope.length > 0) claims.scope = flags.scope.join(' ');
  if (flags.events && flags.events.length > 0) claims.events = flags.events;
  let signed: string;
  try {
    signed = await signToken(claims, key, { ttlS: flags.ttl, issuer: config.jwtIssuer, audience: config.jwtAudience });
  } catch (err) {
    throw new CliError(`cannot sign with ${flags.privateKey ? `--private-key ${flags.privateKey}` : 'JWT_SECRET'}: ${(err as Error).message}`, 'config');
  }
  output.out(`${signed}\n`);
}

/** Where the command line's text goes: stdout for answers and help, stderr for errors. */
const terminal: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** The commands' actions as bin/cli.ts calls them, writing to `output`. */
export function commandActions(output: Output = terminal): Actions {
  return {
    serve,
    token: (flags) => token(flags, output),
    simulate: ({ options, json, progress }) => runSimulation(options, { json, progress, isTTY: process.stderr.isTTY === true, ...output }),
  };
}

/**
 * Runs a command line (argv without node and the script) and sets the exit status; `serve`
 * keeps running until a signal drains it.
 */
export async function main(argv: string[]): Promise<void> {
  // `holdline --help | head` closes the pipe early: that is the reader's choice, not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const code = await runCli(argv, commandActions(terminal), terminal).catch((err: unknown) => {
    process.stderr.write(`holdline: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  });
  process.exitCode = code;
  // serve keeps its listener (and the event loop) alive; a failure must not leave it running.
  if (code !== 0) process.exit(code);
}

/** True when this module is the script node was started with (through any symlink, as npm links bins). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) void main(process.argv.slice(2));
