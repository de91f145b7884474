import { randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from './access.js';
import { HubError } from './errors.js';

/** How tokens are checked; the key source is the seam for public keys and JWKS. */
export interface AuthOptions {
  /** HS256 secret; null = development mode (a random secret, and a ready admin token). */
  secret: string | null;
  issuer: string | null;
  audience: string | null;
  /** Leeway for exp/nbf between clocks. @default 5 */
  clockToleranceS?: number;
}

const SCOPES = new Set(['publish', 'admin']);

/** Verifies bearer tokens with jose and turns their claims into a Principal. */
export class Auth {
  /** True when no key was configured and the secret was made up at start. */
  readonly devMode: boolean;
  private readonly key: Uint8Array;
  private readonly options: AuthOptions;

  constructor(options: AuthOptions) {
    this.options = options;
    this.devMode = options.secret === null;
    this.key = options.secret === null ? randomBytes(32) : new TextEncoder().encode(options.secret);
  }

  /** Verifies a compact JWT; 401 invalid_token naming the reason when it is refused. */
  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        clockTolerance: this.options.clockToleranceS ?? 5,
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience ? { audience: this.options.audience } : {}),
      }));
    } catch (err) {
      throw new HubError('invalid_token', describeJoseError(err));
    }
    return toPrincipal(payload);
  }

  /** Signs a token for the given claims (development mode, tests, the `token` command). */
  async mint(claims: { sub?: string; name?: string; scope?: string; events?: string[] }, ttlS = 86_400): Promise<string> {
    const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
    if (this.options.issuer) jwt.setIssuer(this.options.issuer);
    if (this.options.audience) jwt.setAudience(this.options.audience);
    return jwt.setExpirationTime(`${ttlS}s`).sign(this.key);
  }
}

/** Maps verified claims to a Principal, refusing claims of the wrong shape. */
function toPrincipal(payload: JWTPayload): Principal {
  const { sub, name, scope, events, exp } = payload as JWTPayload & { name?: unknown; scope?: unknown; events?: unknown };
  if (sub !== undefined && (typeof sub !== 'string' || !/^[A-Za-z0-9_@.:|-]{1,128}$/.test(sub))) {
    throw new HubError('invalid_token', 'the sub claim must be an id of at most 128 plain characters');
  }
  if (name !== undefined && (typeof name !== 'string' || name.length > 64)) {
    throw new HubError('invalid_token', 'the name claim must be a string of at most 64 characters');
  }
  if (scope !== undefined && typeof scope !== 'string') throw new HubError('invalid_token', 'the scope claim must be a string');
  if (events !== undefined && (!Array.isArray(events) || events.some((e) => typeof e !== 'string'))) {
    throw new HubError('invalid_token', 'the events claim must be a list of event ids');
  }
  const scopes = new Set((scope ?? '').split(' ').filter((s) => SCOPES.has(s)));
  return {
    sub: sub ?? null,
    name: name ?? null,
    scopes,
    events: (events as string[] | undefined) ?? null,
    expiresAt: typeof exp === 'number' ? exp * 1000 : null,
  };
}

/** A short reason for a refused token, safe to show to its holder. */
function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not accepted`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return 'the token is malformed';
  return 'the token is not valid';
}
