import { randomBytes, type KeyObject } from 'node:crypto';
import { hasUnsafeText } from '../model/fan-input.js';
import {
  SignJWT,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import type { Principal } from '../model/access.js';
import { HubError, isHubError } from '../model/errors.js';
import { ASYMMETRIC_ALGORITHMS, algorithmFor, privateKeyFromPem, publicKeyFromPem } from './keys.js';
import { TokenCache } from './token-cache.js';

/** The only module that imports jose: verification, key sets and signing live here. */

/** Fetching and refreshing a JSON Web Key Set. */
export interface JwksOptions {
  /** How long a fetched set is used before it is fetched again. @default 600_000 */
  cacheMs: number;
  /** Least time between fetches triggered by an unknown `kid` (jose's cooldown). @default 30_000 */
  cooldownMs: number;
  /** @default 5000 */
  timeoutMs: number;
}

/** How tokens are checked. Set at most one of secret, publicKey, jwksUrl; none = development mode. */
export interface AuthOptions {
  /** HS256 secret; null with no other key = development mode (a random secret, a ready admin token). */
  secret: string | null;
  /** PEM public key: RS256, ES256/384/512 or EdDSA, as its type says. */
  publicKey?: string | null;
  jwksUrl?: string | null;
  jwks?: Partial<JwksOptions>;
  issuer: string | null;
  audience: string | null;
  /** Leeway for exp/nbf between clocks. @default 5 */
  clockToleranceS?: number;
  /** Verified tokens remembered; 0 = none. @default 50_000 */
  tokenCacheMax?: number;
  /** @default Date.now */
  clock?: { now(): number };
}

/** The claims holdline reads (iat, exp, nbf, iss and aud come from SignOptions). */
export interface TokenClaims {
  sub?: string;
  name?: string;
  scope?: string;
  events?: string[];
}

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;
type Verifier =
  | { kind: 'key'; key: Uint8Array | KeyObject; algorithms: string[] }
  | { kind: 'jwks'; keySet: RemoteKeySet; algorithms: string[]; options: JwksOptions };

/** A verification worth remembering, with what is needed to tell it is still trusted. */
interface Verified {
  principal: Principal;
  /** exp in ms: the cache never answers at or after it. */
  validUntil: number;
  header: JWSHeaderParameters;
  /** The key that verified it (key sets: the imported key, replaced on every refetch). */
  key: unknown;
}

const SCOPES = new Set(['publish', 'admin']);

/** Verifies bearer tokens with jose and turns their claims into a Principal. */
export class Auth {
  /** True when no key was configured and the secret was made up at start. */
  readonly devMode: boolean;
  private readonly verifier: Verifier;
  private readonly signingSecret: Uint8Array | null;
  private readonly options: AuthOptions;
  private readonly now: () => number;
  private readonly cache: TokenCache<Verified>;
  private keysLoadedAt = -Infinity;
  private keysFailedUntil = -Infinity;
  private refreshing: Promise<void> | null = null;

  constructor(options: AuthOptions) {
    this.options = options;
    const given = [options.secret, options.publicKey, options.jwksUrl].filter((k) => k != null && k !== '');
    if (given.length > 1) throw new TypeError('set only one of secret, publicKey, jwksUrl');
    this.devMode = given.length === 0;
    this.now = options.clock ? () => options.clock!.now() : Date.now;
    this.cache = new TokenCache<Verified>(options.tokenCacheMax ?? 50_000, this.now);
    this.signingSecret = null;
    if (options.publicKey) {
      const { key, alg } = publicKeyFromPem(options.publicKey);
      this.verifier = { kind: 'key', key, algorithms: [alg] };
    } else if (options.jwksUrl) {
      const jwks: JwksOptions = { cacheMs: 600_000, cooldownMs: 30_000, timeoutMs: 5000, ...options.jwks };
      // Freshness is decided here on the injected clock; jose refetches on its own only for an
      // unknown kid, and then at most once per cooldown.
      const keySet = createRemoteJWKSet(new URL(options.jwksUrl), {
        cacheMaxAge: Infinity,
        cooldownDuration: jwks.cooldownMs,
        timeoutDuration: jwks.timeoutMs,
      });
      this.verifier = { kind: 'jwks', keySet, algorithms: [...ASYMMETRIC_ALGORITHMS], options: jwks };
    } else {
      this.signingSecret = options.secret ? new TextEncoder().encode(options.secret) : randomBytes(32);
      this.verifier = { kind: 'key', key: this.signingSecret, algorithms: ['HS256'] };
    }
  }

  /** Verifies a compact JWT: 401 invalid_token naming the reason, 503 when the key set cannot be fetched. */
  async verify(token: string): Promise<Principal> {
    const hit = this.cache.get(token);
    if (hit) {
      if (await this.stillTrusted(hit)) return hit.principal;
      this.cache.delete(token);
    }
    const verified = await this.verifyFully(token);
    this.cache.set(token, verified);
    return verified.principal;
  }

  /** Signs a token with this server's HS256 secret (development mode, tests, the `token` command). */
  async mint(claims: TokenClaims, ttlS = 86_400): Promise<string> {
    if (!this.signingSecret) {
      throw new Error('this server verifies tokens with a public key or a key set; sign them with the private key (examples/mint-token.ts)');
    }
    return signToken(claims, { secret: this.signingSecret }, {
      ttlS, issuer: this.options.issuer, audience: this.options.audience, nowMs: this.now(),
    });
  }

  private async verifyFully(token: string): Promise<Verified> {
    const tolerance = this.options.clockToleranceS ?? 5;
    const options: JWTVerifyOptions = {
      algorithms: this.verifier.algorithms,
      clockTolerance: tolerance,
      currentDate: new Date(this.now()),
      // A token without exp could never be taken back.
      requiredClaims: ['exp'],
      ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      ...(this.options.audience ? { audience: this.options.audience } : {}),
    };
    let result: { payload: JWTPayload; protectedHeader: JWSHeaderParameters };
    let usedKey: unknown = null;
    try {
      if (this.verifier.kind === 'jwks') {
        await this.refreshKeys();
        const keySet = this.verifier.keySet;
        result = await jwtVerify(token, async (header, input) => (usedKey = await this.keyFromSet(keySet, header, input)), options);
      } else {
        result = await jwtVerify(token, this.verifier.key, options);
      }
    } catch (err) {
      if (isHubError(err)) throw err;
      throw new HubError('invalid_token', describeJoseError(err));
    }
    const principal = toPrincipal(result.payload, tolerance);
    const exp = result.payload.exp!;
    return { principal, validUntil: exp * 1000, header: result.protectedHeader, key: usedKey };
  }

  /** A cached verification stands while the key that made it is still the one its header names. */
  private async stillTrusted(hit: Verified): Promise<boolean> {
    if (this.verifier.kind !== 'jwks') return true;
    try {
      await this.refreshKeys();
      return (await this.verifier.keySet(hit.header, { payload: '', signature: '' })) === hit.key;
    } catch {
      return false;
    }
  }

  /** Looks a key up in the set; failures to fetch become 503, not a verdict on the token. */
  private async keyFromSet(keySet: RemoteKeySet, header: JWSHeaderParameters, input: FlattenedJWSInput) {
    try {
      return await keySet(header, input);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) throw err;
      if (err instanceof joseErrors.JOSENotSupported) throw err;
      throw keysUnavailable(err);
    }
  }

  /** Refetches the key set once it is older than cacheMs; keeps the last good set when a fetch fails. */
  private async refreshKeys(): Promise<void> {
    if (this.verifier.kind !== 'jwks') return;
    const { keySet, options } = this.verifier;
    const now = this.now();
    if (now - this.keysLoadedAt < options.cacheMs) return;
    const haveKeys = keySet.jwks() !== undefined;
    if (!haveKeys && now < this.keysFailedUntil) throw keysUnavailable(null);
    this.refreshing ??= keySet.reload().then(
      () => {
        this.keysLoadedAt = this.now();
      },
      (err: unknown) => {
        // Try again after the cooldown, not on every request, while the key server is down.
        const retryAt = this.now() + Math.max(options.cooldownMs, 1000);
        this.keysFailedUntil = retryAt;
        if (keySet.jwks() !== undefined) this.keysLoadedAt = retryAt - options.cacheMs;
        else throw keysUnavailable(err);
      },
    ).finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }
}

function keysUnavailable(cause: unknown): HubError {
  return new HubError('unavailable', 'the token signing keys cannot be fetched right now', { retryAfterS: 5, cause });
}

/** A key to sign with: an HS256 secret, or a private key PEM whose type picks the algorithm. */
export type SigningKey = { secret: string | Uint8Array; kid?: string } | { privateKey: string | KeyObject; kid?: string };

export interface SignOptions {
  /** Lifetime in seconds from nowMs (negative makes an already expired token, for tests). */
  ttlS: number;
  issuer?: string | null;
  audience?: string | null;
  /** @default Date.now() */
  nowMs?: number;
  /** Seconds from nowMs before which the token is not valid. */
  notBeforeS?: number;
  /** Only for secrets: HS256 (default), HS384 or HS512. */
  alg?: 'HS256' | 'HS384' | 'HS512';
}

/** Signs a JWT for the given claims with iat and exp (and iss/aud when given). */
export async function signToken(claims: TokenClaims, key: SigningKey, options: SignOptions): Promise<string> {
  let alg: string;
  let material: Uint8Array | KeyObject;
  if ('secret' in key) {
    alg = options.alg ?? 'HS256';
    material = typeof key.secret === 'string' ? new TextEncoder().encode(key.secret) : key.secret;
  } else {
    const parsed = typeof key.privateKey === 'string' ? privateKeyFromPem(key.privateKey) : { key: key.privateKey, alg: algorithmFor(key.privateKey) };
    material = parsed.key;
    alg = parsed.alg;
  }
  const nowS = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) })
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + options.ttlS);
  if (options.notBeforeS !== undefined) jwt.setNotBefore(nowS + options.notBeforeS);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(material);
}

const SUB = /^[A-Za-z0-9_@.:|-]{1,128}$/;

/** Maps verified claims to a Principal, refusing claims of the wrong shape. */
function toPrincipal(payload: JWTPayload, toleranceS: number): Principal {
  const { sub, name, scope, events, exp } = payload as JWTPayload & { name?: unknown; scope?: unknown; events?: unknown };
  if (sub !== undefined && (typeof sub !== 'string' || !SUB.test(sub))) {
    throw new HubError('invalid_token', 'the sub claim must be an id of at most 128 plain characters');
  }
  if (name !== undefined && (typeof name !== 'string' || name.length > 64 || hasUnsafeText(name))) {
    throw new HubError('invalid_token', 'the name claim must be a string of at most 64 characters, without control characters or bidi overrides');
  }
  if (scope !== undefined && typeof scope !== 'string') throw new HubError('invalid_token', 'the scope claim must be a string');
  if (events !== undefined && (!Array.isArray(events) || events.some((e) => typeof e !== 'string'))) {
    throw new HubError('invalid_token', 'the events claim must be a list of event ids');
  }
  const scopes = new Set((scope ?? '').split(' ').filter((s) => SCOPES.has(s)));
  return Object.freeze({
    sub: sub ?? null,
    name: name ?? null,
    scopes,
    events: events === undefined ? null : Object.freeze([...(events as string[])]),
    // When this server stops accepting the token: held polls are answered then, not at exp, or
    // a client re-polling within the tolerance would spin on instant empty answers.
    expiresAt: typeof exp === 'number' ? (exp + toleranceS) * 1000 : null,
  });
}

/** A short reason for a refused token, safe to show to its holder (never the token itself). */
function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `the token has no ${err.claim} claim`;
    if (err.claim === 'nbf') return 'the token is not valid yet';
    return `the token's ${err.claim} claim is not accepted`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return 'the token algorithm is not accepted';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the key set matches the token';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'the token is malformed';
  return 'the token is not valid';
}
