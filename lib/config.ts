/**
 * Configuration: read from the environment in one place, validated all at once, frozen.
 * Components take their slice; tests build configs from plain objects with loadConfig({...}).
 */

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
  jwtPublicKey: string | null;
  jwtJwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
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
  /** Events that get their own metric series (by viewers); 0 for none. @default 10 */
  metricsTopEvents: number;
  /** Events whose engagement stats are kept at once (memory) and tracked (pending counters). @default 1000 */
  statsMaxEvents: number;
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

/** Reads and validates the configuration; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
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
      problems.push(`${name} must look like <count>/<seconds> with both at least 1, got "${raw}"`);
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
  if (jwtSecret !== null && Buffer.byteLength(jwtSecret) < 32) {
    problems.push('JWT_SECRET must be at least 32 bytes long (HS256 needs a key as long as its hash)');
  }

  const tlsCert = text('TLS_CERT');
  const tlsKey = text('TLS_KEY');
  if ((tlsCert === null) !== (tlsKey === null)) problems.push('TLS_CERT and TLS_KEY must be set together');

  const logLevel = text('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const host = text('HOST') ?? '127.0.0.1';
  const redisPrefix = text('REDIS_PREFIX') ?? 'hl:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisPrefix)) problems.push(`REDIS_PREFIX must match [A-Za-z0-9:_.-]{1,64}, got "${redisPrefix}"`);

  const config: Config = {
    port: int('PORT', 8080, 0, 65_535),
    host,
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix,
    jwtSecret,
    jwtPublicKey: text('JWT_PUBLIC_KEY'),
    jwtJwksUrl: url('JWT_JWKS_URL', ['http:', 'https:']),
    jwtIssuer: text('JWT_ISSUER'),
    jwtAudience: text('JWT_AUDIENCE'),
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
    metricsTopEvents: int('METRICS_TOP_EVENTS', 10, 0, 1000),
    statsMaxEvents: int('STATS_MAX_EVENTS', 1000, 1, 1_000_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
