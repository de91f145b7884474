/**
 * Mints a holdline token for the given claims, as an identity service would: with JWT_SECRET
 * (HS256), or with a private key PEM whose type picks the algorithm (RSA → RS256, EC P-256/
 * P-384/P-521 → ES256/ES384/ES512, Ed25519 → EdDSA). The server then needs the matching
 * JWT_PUBLIC_KEY, or a JWKS at JWT_JWKS_URL publishing the key under the same --kid.
 *
 *   JWT_SECRET=... npx tsx examples/mint-token.ts --sub alice --name Alice --scope publish --events m1,m2 --ttl 3600
 *   npx tsx examples/mint-token.ts --private-key private.pem --kid 2026-01 --sub alice --iss https://id.example --aud holdline
 *
 * A key pair to try it with:
 *   node -e "const {generateKeyPairSync:g}=require('crypto');const k=g('ec',{namedCurve:'P-256'});
 *     require('fs').writeFileSync('private.pem',k.privateKey.export({type:'pkcs8',format:'pem'}));
 *     require('fs').writeFileSync('public.pem',k.publicKey.export({type:'spki',format:'pem'}))"
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { signToken, type SigningKey, type TokenClaims } from '../lib/trust/auth.js';

const OPTIONS = {
  sub: { type: 'string' },
  name: { type: 'string' },
  scope: { type: 'string' },
  events: { type: 'string' },
  ttl: { type: 'string', default: '3600' },
  iss: { type: 'string' },
  aud: { type: 'string' },
  kid: { type: 'string' },
  'private-key': { type: 'string' },
} as const;

/** Builds the token the arguments describe; `secret` is JWT_SECRET when no private key is given. */
export async function mintFromArgs(argv: string[], secret: string | undefined): Promise<string> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const ttlS = Number(values.ttl);
  if (!Number.isInteger(ttlS) || ttlS < 1) throw new Error('--ttl must be a positive number of seconds');
  const kid = values.kid ? { kid: values.kid } : {};
  let key: SigningKey;
  if (values['private-key']) key = { privateKey: readFileSync(values['private-key'], 'utf8'), ...kid };
  else if (secret) key = { secret, ...kid };
  else throw new Error('give --private-key FILE, or set JWT_SECRET');
  const claims: TokenClaims = {};
  if (values.sub) claims.sub = values.sub;
  if (values.name) claims.name = values.name;
  if (values.scope) claims.scope = values.scope;
  if (values.events) claims.events = values.events.split(',').filter(Boolean);
  return signToken(claims, key, { ttlS, issuer: values.iss ?? null, audience: values.aud ?? null });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  mintFromArgs(process.argv.slice(2), process.env['JWT_SECRET']).then(
    (token) => process.stdout.write(`${token}\n`),
    (err: Error) => {
      process.stderr.write(`mint-token: ${err.message}\n`);
      process.exit(2);
    },
  );
}
