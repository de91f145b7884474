import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintFromArgs } from '../examples/mint-token.js';
import { Auth } from '../lib/trust/auth.js';
import { keyPair } from './support/jwt.js';

describe('examples/mint-token.ts', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'holdline-mint-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mints with a private key PEM a token that the matching public key verifies, claims and all', async () => {
    const pair = keyPair('ed25519');
    writeFileSync(join(dir, 'private.pem'), pair.privatePem);
    const token = await mintFromArgs(
      ['--private-key', join(dir, 'private.pem'), '--kid', 'k1', '--sub', 'alice', '--name', 'Alice', '--scope', 'publish', '--events', 'm1,m2', '--iss', 'https://id.example', '--aud', 'holdline'],
      undefined,
    );
    const auth = new Auth({ secret: null, publicKey: pair.publicPem, issuer: 'https://id.example', audience: 'holdline' });
    const p = await auth.verify(token);
    expect([p.sub, p.name, [...p.scopes], p.events]).to.deep.equal(['alice', 'Alice', ['publish'], ['m1', 'm2']]);
  });

  it('mints with JWT_SECRET when no key is given, and refuses to guess otherwise', async () => {
    const secret = 'mint-test-secret-0123456789abcdef-0123';
    const token = await mintFromArgs(['--sub', 'bob', '--ttl', '60'], secret);
    expect((await new Auth({ secret, issuer: null, audience: null }).verify(token)).sub).to.equal('bob');
    let message = '';
    await mintFromArgs(['--sub', 'bob'], undefined).catch((err: Error) => (message = err.message));
    expect(message).to.match(/--private-key|JWT_SECRET/);
  });
});
