/**
 * Configuration: read from the environment in one place, validated all at once, frozen.
 * Components take their slice; tests build configs from plain objects with loadConfig({...}).
 */
import { isIP } from 'node:net';
import { publicKeyFromPem, readPem } from './trust/keys.js';

export interface RateLimit {
  count: number;
  windowMs: number;
}

export interface Config {
  /** @default 8080 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** Unset: the in-memory store. */
  redisUrl: string | null;
  /** Prefix of every Redis key, so several deployments (or tests) can share one Redis. @default 'hl:' */
  redisPrefix: string;
  jwtSecret: string | null;
  /** The PEM text of JWT_PUBLIC_KEY (given inline or as a path to a PEM file, read at start). */
  jwtPublicKey: string | null;
  jwtJwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  /** Leeway for exp/nbf between the issuer's clock and ours. @default 5 */
  jwtClockToleranceS: number;
  /** How long a fetched key set is used before it is fetched again. @default 600_000 */
  jwksCacheMs: number;
  /** Least time between two fetches triggered by unknown key ids. @default 30_000 */
  jwksCooldownMs: number;
  /** @default 5000 */
  jwksTimeoutMs: number;
  /** Verified tokens remembered (0 = verify every request). @default 50_000 */
  tokenCacheMax: number;
  /** Concurrent held polls per client address (0 = no cap). @default 20_000 */
  maxHeldPerAddress: number;
  /** Node's maxHeaderSize: request line plus headers. @default 16_384 */
  maxHeaderBytes: number;
  /** Query string bytes, not counting an access_token parameter. @default 4096 */
  maxQueryBytes: number;
  /** @default 1024 */
  maxPathBytes: number;
  /** Allowed CORS origins; ['*'] for any. @default [] */
  corsOrigins: string[];
  /** @default 25_000 */
  holdTimeoutMs: number;
  /** @default 60_000 */
  maxHoldMs: number;
  /** @default 1024 */
  ringSize: number;
  /** @default 256 */
  maxBatch: number;
  /** @default 16 */
  maxSubs: number;
  /** @default 35_000 */
  presenceTtlMs: number;
  /** @default 1000 */
  reactionWindowMs: number;
  /** @default 5 per 10 s */
  rateChat: RateLimit;
  /** @default 20 per 10 s */
  rateReactions: RateLimit;
  /** @default 16_384 */
  maxBodyBytes: number;
  /** @default 32 */
  maxJsonDepth: number;
  /** @default 10_000 */
  drainTimeoutMs: number;
  /** @default 50 */
  chatHistory: number;
  /** @default 10_000 */
  maxEvents: number;
  /** @default 100_000 */
  idempotencyMax: number;
  /** @default 86_400_000 (24 h) */
  idempotencyTtlMs: number;
  tlsCert: string | null;
  tlsKey: string | null;
  /** @default 'info' */
  logLevel: string;
  /**
   * The level of the line logged per answered request (LOG_REQUESTS): 'debug' keeps a busy
   * terminal quiet (what `serve --demo` uses); 5xx and 503 lines are error and warn whatever it is.
   * @default 'info'
   */
  logRequests: 'info' | 'debug';
  /** Events that get their own metric series (by viewers); 0 for none. @default 10 */
  metricsTopEvents: number;
  /** Events whose engagement stats are kept at once (memory) and tracked (pending counters). @default 1000 */
  statsMaxEvents: number;
  /** Started with `serve --dev`: development mode allowed (no key needed). @default false */
  dev: boolean;
  /** Proxies whose X-Forwarded-For names the client; null trusts none. @default null */
  trustedProxies: TrustedProxies | null;
  /** A port that serves only /metrics (and the probes); null: none. @default null */
  metricsPort: number | null;
  /** A bearer token /metrics on the main port needs; null: /metrics not served there (unless dev). @default null */
  metricsToken: string | null;
  /** How long scrape-time gauges (viewers, events open) are reused. @default 5000 */
  metricsCacheMs: number;
  /** Open HTTP connections at once; beyond it new ones are closed at accept. @default 100_000 */
  maxConnections: number;
  /** Anonymous reactions per client address (IPv6 by /64), on top of the per-viewer limit. @default 200 per 10 s */
  rateAddressReactions: RateLimit;
  /** Joins per client address: each mints a viewer id. @default 120 per 10 s */
  rateAddressJoins: RateLimit;
  /** Records of one identity per kind (publisher, viewer); beyond it the identity's oldest goes. @default 1000 */
  idempotencyMaxPerIdentity: number;
  /** How long a chat message's Idempotency-Key is remembered. @default 600_000 (10 min) */
  idempotencyViewerTtlMs: number;
  /** Reaction totals a snapshot keeps by name; the rest are summed into `other`. @default 32 */
  reactionTotalsMax: number;
  /** New reaction names one identity may bring into an event's window. @default 8 */
  reactionNewPerIdentity: number;
  /** SSE comment heartbeat and WebSocket ping interval; below the 30 s proxies allow idle. @default 15_000 */
  streamHeartbeatMs: number;
  /** Bytes a stream may have queued for its client before it is cut with its resume point. @default 262_144 */
  streamBufferBytes: number;
}

/** Which proxies' X-Forwarded-For is believed: the last `hops` entries, or entries from these networks. */
export type TrustedProxies = { hops: number } | { cidrs: string[] };

/** How the process was started: `serve --dev` allows running without a key. */
export interface StartMode {
  /** Development mode: no key variable needed (a random secret and a printed admin token). */
  dev?: boolean;
}

export type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Thrown by loadConfig with every problem found, one per line. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * A key set decides who is admin: fetched over plain HTTP, anyone on the path could swap the
 * keys. Plain HTTP is allowed only to this machine (a sidecar, or tests).
 */
function jwksUrl(value: string | null, problems: string[]): string | null {
  if (value === null) return null;
  const u = new URL(value);
  const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
  if (u.protocol === 'http:' && !loopback) {
    problems.push('JWT_JWKS_URL must be an https: URL (plain http: only to localhost)');
    return null;
  }
  return value;
}

/** TRUSTED_PROXIES: a hop count, or a comma-separated list of addresses and CIDR networks. */
function trustedProxies(raw: string | null, problems: string[]): TrustedProxies | null {
  if (raw === null) return null;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops >= 1 && hops <= 16) return { hops };
    problems.push(`TRUSTED_PROXIES as a hop count must be 1–16, got "${raw}"`);
    return null;
  }
  const cidrs = raw.split(',').map((c) => c.trim()).filter(Boolean);
  for (const cidr of cidrs) {
    if (!isCidr(cidr)) {
      problems.push(`TRUSTED_PROXIES must be a hop count or addresses/CIDRs like 10.0.0.0/8,fd00::/8, got "${cidr}"`);
      return null;
    }
  }
  return { cidrs };
}

function isCidr(text: string): boolean {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** Reads and validates the configuration; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env, mode: StartMode = {}): Readonly<Config> {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === null) return def;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
      return def;
    }
    return n;
  };
  const rate = (name: string, def: RateLimit): RateLimit => {
    const raw = text(name);
    if (raw === null) return def;
    const m = /^(\d{1,6})\/(\d{1,5})$/.exec(raw);
    const count = m ? Number(m[1]) : 0;
    const seconds = m ? Number(m[2]) : 0;
    if (!m || count < 1 || seconds < 1 || seconds > 86_400) {
      problems.push(`${name} must look like <count>/<seconds> (count 1 to 999999, seconds 1 to 86400), got "${raw}"`);
      return def;
    }
    return { count, windowMs: seconds * 1000 };
  };
  const url = (name: string, protocols: string[]): string | null => {
    const raw = text(name);
    if (raw === null) return null;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error();
      return raw;
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${raw}"`);
      return null;
    }
  };

  const holdTimeoutMs = int('HOLD_TIMEOUT_MS', 25_000, 0, 120_000);
  const maxHoldMs = int('MAX_HOLD_MS', 60_000, 0, 300_000);
  if (holdTimeoutMs > maxHoldMs) problems.push(`HOLD_TIMEOUT_MS (${holdTimeoutMs}) must not exceed MAX_HOLD_MS (${maxHoldMs})`);

  const corsRaw = text('CORS_ORIGINS');
  const corsOrigins = corsRaw === null ? [] : corsRaw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin === '*') continue;
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`CORS_ORIGINS must list origins like https://example.com (no path), or *, got "${origin}"`);
  }

  const keys = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'].filter((k) => text(k) !== null);
  if (keys.length > 1) problems.push(`set only one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL; got ${keys.join(', ')}`);
  const jwtSecret = text('JWT_SECRET');
  let jwtPublicKey: string | null = null;
  const publicKeyRaw = text('JWT_PUBLIC_KEY');
  if (publicKeyRaw !== null) {
    try {
      jwtPublicKey = readPem(publicKeyRaw);
      publicKeyFromPem(jwtPublicKey);
    } catch (err) {
      // Never echo the value: it may be a whole PEM.
      const unreadable = (err as NodeJS.ErrnoException).code !== undefined;
      problems.push(unreadable ? 'JWT_PUBLIC_KEY must be PEM text or the path of a readable PEM file' : `JWT_PUBLIC_KEY is refused: ${(err as Error).message}`);
      jwtPublicKey = null;
    }
  }
  if (jwtSecret !== null && Buffer.byteLength(jwtSecret) < 32) {
    problems.push('JWT_SECRET must be at least 32 bytes long (HS256 needs a key as long as its hash)');
  }

  const tlsCert = text('TLS_CERT');
  const tlsKey = text('TLS_KEY');
  if ((tlsCert === null) !== (tlsKey === null)) problems.push('TLS_CERT and TLS_KEY must be set together');

  const logLevel = text('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const logRequests = text('LOG_REQUESTS') ?? 'info';
  if (logRequests !== 'info' && logRequests !== 'debug') problems.push(`LOG_REQUESTS must be info or debug, got "${logRequests}"`);

  const host = text('HOST') ?? '127.0.0.1';
  const redisPrefix = text('REDIS_PREFIX') ?? 'hl:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisPrefix)) problems.push(`REDIS_PREFIX must match [A-Za-z0-9:_.-]{1,64}, got "${redisPrefix}"`);

  const metricsToken = text('METRICS_TOKEN');
  if (metricsToken !== null && !/^[A-Za-z0-9._~+/-]{16,256}$/.test(metricsToken)) {
    problems.push('METRICS_TOKEN must be 16–256 characters of A-Z a-z 0-9 . _ ~ + / -');
  }
  const metricsPortRaw = text('METRICS_PORT');
  const metricsPort = metricsPortRaw === null ? null : int('METRICS_PORT', 0, 0, 65_535);

  const config: Config = {
    port: int('PORT', 8080, 0, 65_535),
    host,
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix,
    jwtSecret,
    jwtPublicKey,
    jwtJwksUrl: jwksUrl(url('JWT_JWKS_URL', ['http:', 'https:']), problems),
    jwtIssuer: text('JWT_ISSUER'),
    jwtAudience: text('JWT_AUDIENCE'),
    jwtClockToleranceS: int('JWT_CLOCK_TOLERANCE_S', 5, 0, 300),
    jwksCacheMs: int('JWT_JWKS_CACHE_MS', 600_000, 1000, 86_400_000),
    jwksCooldownMs: int('JWT_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
    jwksTimeoutMs: int('JWT_JWKS_TIMEOUT_MS', 5000, 100, 60_000),
    tokenCacheMax: int('TOKEN_CACHE_MAX', 50_000, 0, 10_000_000),
    maxHeldPerAddress: int('MAX_HELD_PER_ADDRESS', 20_000, 0, 10_000_000),
    maxHeaderBytes: int('MAX_HEADER_BYTES', 16_384, 1024, 1_048_576),
    maxQueryBytes: int('MAX_QUERY_BYTES', 4096, 256, 65_536),
    maxPathBytes: int('MAX_PATH_BYTES', 1024, 256, 65_536),
    corsOrigins,
    holdTimeoutMs,
    maxHoldMs,
    ringSize: int('RING_SIZE', 1024, 1, 1_000_000),
    maxBatch: int('MAX_BATCH', 256, 1, 100_000),
    maxSubs: int('MAX_SUBS', 16, 1, 256),
    presenceTtlMs: int('PRESENCE_TTL_MS', 35_000, 1000, 3_600_000),
    reactionWindowMs: int('REACTION_WINDOW_MS', 1000, 50, 60_000),
    rateChat: rate('RATE_CHAT', { count: 5, windowMs: 10_000 }),
    rateReactions: rate('RATE_REACTIONS', { count: 20, windowMs: 10_000 }),
    maxBodyBytes: int('MAX_BODY_BYTES', 16_384, 256, 10_485_760),
    maxJsonDepth: int('MAX_JSON_DEPTH', 32, 2, 256),
    drainTimeoutMs: int('DRAIN_TIMEOUT_MS', 10_000, 100, 600_000),
    chatHistory: int('CHAT_HISTORY', 50, 0, 1000),
    maxEvents: int('MAX_EVENTS', 10_000, 1, 10_000_000),
    idempotencyMax: int('IDEMPOTENCY_MAX', 100_000, 100, 10_000_000),
    idempotencyTtlMs: int('IDEMPOTENCY_TTL_MS', 86_400_000, 1000, 7 * 86_400_000),
    tlsCert,
    tlsKey,
    logLevel,
    logRequests: logRequests === 'debug' ? 'debug' : 'info',
    metricsTopEvents: int('METRICS_TOP_EVENTS', 10, 0, 1000),
    statsMaxEvents: int('STATS_MAX_EVENTS', 1000, 1, 1_000_000),
    dev: mode.dev === true,
    trustedProxies: trustedProxies(text('TRUSTED_PROXIES'), problems),
    metricsPort,
    metricsToken,
    metricsCacheMs: int('METRICS_CACHE_MS', 5000, 0, 300_000),
    maxConnections: int('MAX_CONNECTIONS', 100_000, 1, 10_000_000),
    rateAddressReactions: rate('RATE_ADDRESS_REACTIONS', { count: 200, windowMs: 10_000 }),
    rateAddressJoins: rate('RATE_ADDRESS_JOINS', { count: 120, windowMs: 10_000 }),
    idempotencyMaxPerIdentity: int('IDEMPOTENCY_MAX_PER_IDENTITY', 1000, 1, 10_000_000),
    idempotencyViewerTtlMs: int('IDEMPOTENCY_VIEWER_TTL_MS', 600_000, 1000, 86_400_000),
    reactionTotalsMax: int('REACTION_TOTALS_MAX', 32, 1, 1000),
    reactionNewPerIdentity: int('REACTION_NEW_PER_IDENTITY', 8, 1, 256),
    // Proxies and load balancers commonly cut a connection idle for 30 s (or 60 s).
    streamHeartbeatMs: int('STREAM_HEARTBEAT_MS', 15_000, 50, 29_000),
    streamBufferBytes: int('STREAM_BUFFER_BYTES', 262_144, 1024, 67_108_864),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** The key variables: one of them is needed outside development mode. */
export const KEY_VARIABLES = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'] as const;

/**
 * Refuses to serve without a key unless development mode was asked for (`serve --dev`; `serve
 * --demo` brings its own demo secret): a mistyped variable must not give a working server with
 * a random admin secret.
 */
export function requireKeys(config: Readonly<Config>): void {
  if (config.dev || config.jwtSecret !== null || config.jwtPublicKey !== null || config.jwtJwksUrl !== null) return;
  throw new ConfigError([
    `none of ${KEY_VARIABLES.join(', ')} is set: set JWT_SECRET (HS256, at least 32 bytes), JWT_PUBLIC_KEY or JWT_JWKS_URL, ` +
      'or start with --dev for a development server with a random secret',
  ]);
}
