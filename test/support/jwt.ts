import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Auth } from '../../lib/trust/auth.js';
import { isHubError } from '../../lib/model/errors.js';

/**
 * Hand-made tokens for the hostile cases (unsigned, tampered, confused algorithms) and a local
 * JWKS server. Built with node:crypto so that lib/trust/auth.ts stays the only importer of jose.
 */

/** base64url of a JSON value or a string. */
export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A compact JWT with any header and payload; `signer` gets "header.payload" and returns the signature part. */
export function rawJwt(header: object, payload: object, signer: (input: string) => string = () => ''): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${signer(input)}`;
}

/** An HMAC signer (HS256 by default) over whatever bytes are given as the secret. */
export function hmacSigner(secret: string | Buffer, hash = 'sha256'): (input: string) => string {
  return (input) => createHmac(hash, secret).update(input).digest('base64url');
}

/** An RSA-PSS (PS256) signer: a real signature, with an algorithm an RSA server must still refuse. */
export function pssSigner(privateKey: KeyObject): (input: string) => string {
  return (input) =>
    sign('sha256', Buffer.from(input), { key: privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }).toString('base64url');
}

/** Seconds since the epoch, for exp/nbf claims. */
export function seconds(ms: number = Date.now()): number {
  return Math.floor(ms / 1000);
}

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
  publicPem: string;
  privatePem: string;
}

/** A fresh key pair as KeyObjects and PEM text. */
export function keyPair(type: 'rsa' | 'ec' | 'ed25519', curve = 'P-256'): KeyPair {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: curve })
        : generateKeyPairSync('ed25519');
  return {
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    privatePem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

/** The public JWK of a key pair, with its kid (and alg, as key servers usually publish it). */
export function publicJwk(pair: KeyPair, kid: string, alg: string): Record<string, unknown> {
  return { ...(pair.publicKey.export({ format: 'jwk' }) as object), kid, alg, use: 'sig' };
}

/** A JWKS endpoint on 127.0.0.1 serving `keys` as they are at each request. */
export interface JwksServer {
  url: string;
  keys: Array<Record<string, unknown>>;
  /** How many times the key set was fetched. */
  fetches: number;
  /** Answer 500 instead of the key set. */
  failing: boolean;
  close(): Promise<void>;
}

/** Starts a JWKS server on a free port of 127.0.0.1. */
export async function startJwksServer(keys: Array<Record<string, unknown>> = []): Promise<JwksServer> {
  const state: JwksServer = {
    url: '',
    keys,
    fetches: 0,
    failing: false,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    state.fetches++;
    if (state.failing) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return state;
}

/** Resolves to the refusal's code and message, or fails when the token is accepted. */
export async function refusal(auth: Auth, token: string): Promise<{ code: string; message: string }> {
  try {
    await auth.verify(token);
  } catch (err) {
    if (isHubError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('the token was accepted');
}
