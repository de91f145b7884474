import { expect } from 'chai';
import { startService } from '../bin/holdline.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { startChildServer, type ChildServer } from './support/child.js';
import { TEST_SECRET } from './support/server.js';

/**
 * Issue 15, finding 5: development mode only when asked for. A server without a key variable
 * refuses to start, naming the variables, whatever NODE_ENV says; `--dev` (and `serve --demo`,
 * as `npm start` runs it) start one with a random secret and a printed admin token.
 */
describe('start-up without a key: development mode only when asked for', function () {
  this.timeout(90_000);
  let child: ChildServer | null = null;
  afterEach(() => {
    child?.kill();
    child = null;
  });

  it('refuses to start in-process without JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL, naming them', async () => {
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'production' });
    try {
      await startService(config);
      expect.fail('startService must refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      for (const name of ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL', '--dev']) expect((err as Error).message).to.contain(name);
    }
  });

  it('a production container with a mistyped key variable exits 4 (configuration) naming the variables, printing no token', async () => {
    const failed = await startChildServer({ NODE_ENV: 'production', JWT_SECRTE: TEST_SECRET }).then(
      (c) => {
        child = c;
        return null;
      },
      (err: Error) => err.message,
    );
    expect(failed, 'the server must not start').to.be.a('string');
    expect(failed).to.match(/exited \(4\)/);
    expect(failed).to.contain('JWT_SECRET').and.contain('JWT_PUBLIC_KEY').and.contain('JWT_JWKS_URL');
    expect(failed).to.not.match(/eyJ[A-Za-z0-9_-]+\./);
  });

  it('serve --dev starts a development server and prints its admin token on stderr', async () => {
    child = await startChildServer({}, 60_000, ['--dev']);
    // The banner follows the "listening" line.
    for (let i = 0; i < 200 && !/eyJ[A-Za-z0-9_.-]+\n/.test(child.stderr()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(child.stderr()).to.contain('DEVELOPMENT MODE');
    const token = /eyJ[A-Za-z0-9_.-]+/.exec(child.stderr())?.[0];
    expect(token).to.be.a('string');
    const res = await fetch(`${child.url}/events/dev-check`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token!}`, 'Content-Type': 'application/json' },
      body: '{"title":"dev"}',
    });
    expect(res.status).to.equal(201);
  });

  it('a key set needs no flag, and then nothing is printed', async () => {
    child = await startChildServer({ JWT_SECRET: TEST_SECRET, NODE_ENV: 'production' });
    expect(child.stderr()).to.not.contain('DEVELOPMENT MODE');
  });
});
