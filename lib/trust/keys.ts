import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * PEM keys for tokens, with node:crypto only (jose stays in lib/trust/auth.ts). The JWS algorithm
 * follows the key's type, so a key can never be used with an algorithm it was not made for.
 */

/** The asymmetric JWS algorithms holdline accepts, one per key type. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const CURVES: Record<string, AsymmetricAlgorithm> = { 'prime256v1': 'ES256', 'P-256': 'ES256', 'secp384r1': 'ES384', 'P-384': 'ES384', 'secp521r1': 'ES512', 'P-521': 'ES512' };

/**
 * JWT_PUBLIC_KEY as PEM text: a value starting with "-----BEGIN" is the PEM itself (literal
 * "\n" sequences become newlines, as .env files carry them); anything else is a file path.
 */
export function readPem(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('-----BEGIN')) return trimmed.replace(/\\n/g, '\n');
  return readFileSync(trimmed, 'utf8');
}

/** The algorithm a key signs with; throws a plain Error for types or sizes holdline refuses. */
export function algorithmFor(key: KeyObject): AsymmetricAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      // Shorter RSA keys are factorable with modest means; jose refuses them too.
      if ((details.modulusLength ?? 0) < 2048) throw new Error('an RSA key must be at least 2048 bits');
      return 'RS256';
    case 'ec': {
      const alg = CURVES[details.namedCurve ?? ''];
      if (!alg) throw new Error(`the EC curve ${details.namedCurve ?? '?'} is not supported (use P-256, P-384 or P-521)`);
      return alg;
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`keys of type ${key.asymmetricKeyType ?? 'secret'} are not supported (use RSA, EC or Ed25519)`);
  }
}

/** Parses a public key (SPKI, PKCS#1 or an X.509 certificate) and the one algorithm it verifies. */
export function publicKeyFromPem(pem: string): { key: KeyObject; alg: AsymmetricAlgorithm } {
  // createPublicKey would quietly derive a public key from a private one: refuse, so a signing
  // key is never left lying in a verifier's configuration.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error('this is a private key: give the public key');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('not a PEM public key or certificate');
  }
  return { key, alg: algorithmFor(key) };
}

/** Parses a private key PEM (PKCS#8, PKCS#1 or SEC1) and the one algorithm it signs with. */
export function privateKeyFromPem(pem: string): { key: KeyObject; alg: AsymmetricAlgorithm } {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('not an unencrypted PEM private key');
  }
  return { key, alg: algorithmFor(key) };
}
