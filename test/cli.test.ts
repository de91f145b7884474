import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, EXIT_TABLE, runCli, type Actions, type ServeFlags, type SimulateFlags, type TokenFlags } from '../bin/cli.js';
import { commandActions } from '../bin/holdline.js';
import { demoSecret } from '../demo/state.js';
import { Auth } from '../lib/trust/auth.js';
import { startTestServer, TEST_SECRET, type TestServer } from './support/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Actions that record what they were asked and act on nothing. */
function recorder(): { actions: Actions; calls: Array<[string, unknown]> } {
  const calls: Array<[string, unknown]> = [];
  return {
    calls,
    actions: {
      serve: async (flags: ServeFlags) => void calls.push(['serve', flags]),
      token: async (flags: TokenFlags) => void calls.push(['token', flags]),
      simulate: async (flags: SimulateFlags) => (calls.push(['simulate', flags]), 'ok'),
    },
  };
}

async function parse(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run & { calls: Array<[string, unknown]> }> {
  const { actions, calls } = recorder();
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, actions, { out: (t) => void out.push(t), err: (t) => void err.push(t) }, env);
  return { code, out: out.join(''), err: err.join(''), calls };
}

/** Runs a real process to its end. */
function run(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000, cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} still running after ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

describe('holdline command line: parsing', () => {
  for (const argv of [['--help'], ['-h'], ['help'], ['serve', '--help'], ['token', '--help'], ['simulate', '--help'], ['help', 'token'], ['serve', '-h']]) {
    it(`${argv.join(' ')} prints help on stdout, exits 0 and runs nothing`, async () => {
      const r = await parse(argv);
      expect(r.code).to.equal(0);
      expect(r.calls).to.deep.equal([]);
      expect(r.out).to.match(/^Usage: holdline/);
      expect(r.out).to.contain('Exit status:');
      expect(r.err).to.equal('');
    });
  }

  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await parse([flag]);
      expect([r.code, r.out, r.calls.length]).to.deep.equal([0, `${VERSION}\n`, 0]);
    }
  });

  it('a bare holdline prints the help on stderr and exits 2 instead of starting a server', async () => {
    const r = await parse([]);
    expect([r.code, r.out, r.calls.length]).to.deep.equal([EXIT.usage, '', 0]);
    expect(r.err).to.contain('Usage: holdline').and.contain('serve').and.contain('token').and.contain('simulate');
  });

  it('refuses an unknown command with the closest one suggested', async () => {
    for (const argv of [['sreve'], ['help', 'sreve']]) {
      const r = await parse(argv);
      expect([r.code, r.calls.length, r.out], argv.join(' ')).to.deep.equal([EXIT.usage, 0, '']);
      expect(r.err, argv.join(' ')).to.contain("unknown command 'sreve'").and.contain('Did you mean serve?');
    }
  });

  it('refuses a mistyped flag instead of dropping it (token --scpoe publish mints nothing)', async () => {
    const r = await parse(['token', '--sub', 'bob', '--scpoe', 'publish']);
    expect([r.code, r.calls.length, r.out]).to.deep.equal([EXIT.usage, 0, '']);
    expect(r.err).to.contain("unknown option '--scpoe'").and.contain('Did you mean --scope?');
    const serve = await parse(['serve', '--dmeo']);
    expect([serve.code, serve.calls.length]).to.deep.equal([EXIT.usage, 0]);
    expect(serve.err).to.contain('Did you mean --demo?');
  });

  it('refuses a scope the server would ignore, suggesting the one meant', async () => {
    const r = await parse(['token', '--scope', 'pubish']);
    expect([r.code, r.calls.length]).to.deep.equal([EXIT.usage, 0]);
    expect(r.err).to.contain('unknown scope "pubish" (did you mean "publish"?)');
  });

  it('refuses stray arguments and malformed values, naming the flag', async () => {
    const cases: Array<[string[], string]> = [
      [['token', 'bob'], 'too many arguments'],
      [['token', '--ttl', 'soon'], "option '--ttl <seconds>' argument 'soon' is invalid"],
      [['token', '--ttl', '0'], '--ttl must be a whole number of 1 or more'],
      [['serve', '--port', '70000'], "option '--port <port>' argument '70000' is invalid"],
      [['token', '--sub'], "option '--sub <id>' argument missing"],
      [['simulate', '--duration', 'forever'], '--duration must be a duration like 30s'],
      [['simulate', '--kinds', 'score,goals'], 'unknown kind "goals"'],
    ];
    for (const [argv, message] of cases) {
      const r = await parse(argv);
      expect([r.code, r.calls.length], argv.join(' ')).to.deep.equal([EXIT.usage, 0]);
      expect(r.err, argv.join(' ')).to.contain(message);
    }
  });

  it('hands the actions what was asked', async () => {
    const token = await parse(['token', '--sub', 'bob', '--name', 'Bob', '--scope', 'publish admin', '--events', 'a,b', '--events', 'c', '--ttl', '60', '--kid', 'k1']);
    expect(token.code).to.equal(0);
    expect(token.calls).to.deep.equal([['token', { sub: 'bob', name: 'Bob', scope: ['publish', 'admin'], events: ['a', 'b', 'c'], ttl: 60, kid: 'k1' }]]);
    const serve = await parse(['serve', '--demo', '--port', '0', '--host', '::1']);
    expect(serve.calls).to.deep.equal([['serve', { demo: true, dev: false, port: 0, host: '::1' }]]);
    const plain = await parse(['serve']);
    expect(plain.calls).to.deep.equal([['serve', { demo: false, dev: false }]]);
    const dev = await parse(['serve', '--dev']);
    expect(dev.calls).to.deep.equal([['serve', { demo: false, dev: true }]]);
    const sim = await parse(['simulate', '--event', 'a', '--event', 'b', '--ramp', '500ms', '--duration', '2m', '--viewers', '7', '--json'], { HOLDLINE_URL: 'http://127.0.0.1:9', HOLDLINE_TOKEN: 'jwt' });
    const flags = sim.calls[0]![1] as SimulateFlags;
    expect(flags.json).to.equal(true);
    expect(flags.progress).to.equal(false);
    expect(flags.options).to.deep.include({ url: 'http://127.0.0.1:9', events: ['a', 'b'], rampMs: 500, durationMs: 120_000, viewers: 7, token: 'jwt', publishRate: 0 });
  });
});

describe('holdline command line: docs', () => {
  it("keeps npm pack and global installs out of the README's first screen (its test runs those commands)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const top = readme.slice(0, readme.indexOf('\n## Configuration'));
    expect(top).to.not.match(/npm (pack|install (-g|--global))/);
  });

  it('the README and docs/CLIENTS.md name the tarball npm pack makes', () => {
    for (const doc of ['README.md', 'docs/CLIENTS.md']) expect(readFileSync(join(ROOT, doc), 'utf8'), doc).to.contain(`npm install -g ./holdline-${VERSION}.tgz`);
  });

  it('docs/OPERATIONS.md lists every exit status with the meaning --help prints', () => {
    const doc = readFileSync(join(ROOT, 'docs/OPERATIONS.md'), 'utf8');
    for (const [name, meaning] of EXIT_TABLE) expect(doc, name).to.contain(`| ${EXIT[name]} | ${meaning} |`);
  });
});

describe('holdline command line: the real process', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'holdline-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs through a symlink, as npm links a bin (it used to print nothing and exit 0)', async () => {
    const link = join(dir, 'holdline');
    symlinkSync(join(ROOT, 'bin/holdline.mjs'), link);
    const viaShim = await run([link, '--version']);
    expect([viaShim.code, viaShim.out]).to.deep.equal([0, `${VERSION}\n`]);
    // The entry itself, linked under another name, still knows it is the entry.
    const entryLink = join(dir, 'entry.ts');
    symlinkSync(join(ROOT, 'bin/holdline.ts'), entryLink);
    const direct = await run(['--import', 'tsx', entryLink, '--version']);
    expect([direct.code, direct.out]).to.deep.equal([0, `${VERSION}\n`]);
  });

  it('npx holdline works inside the checkout (it used to print nothing, or find no command)', async function () {
    const npx = await new Promise<Run>((resolve, reject) => {
      const child = spawn('npx', ['holdline', '--version'], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
    });
    // npx keeps its install of this folder in ~/.npm/_npx; one made before the bin existed has no link.
    const hint = /not found/.test(npx.err) ? '\n(an npx cache entry from before bin/holdline.mjs: remove the ~/.npm/_npx/<hash> folder whose package.json names this checkout)' : '';
    expect([npx.code, npx.out], npx.err + hint).to.deep.equal([0, `${VERSION}\n`]);
  });

  it('serve --help answers and exits without starting a server', async () => {
    const r = await run(['bin/holdline.mjs', 'serve', '--help'], { PORT: '0', LOG_LEVEL: 'info' });
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^Usage: holdline serve/).and.not.contain('"listening"');
    expect(r.err).to.equal('');
  });

  it('token mints a JWT the server accepts, with the claims asked for', async () => {
    const r = await run(['bin/holdline.mjs', 'token', '--sub', 'bob', '--name', 'Bob', '--scope', 'publish', '--events', 'final', '--ttl', '120'], { JWT_SECRET: TEST_SECRET });
    expect([r.code, r.err]).to.deep.equal([0, '']);
    const p = await new Auth({ secret: TEST_SECRET, issuer: null, audience: null }).verify(r.out.trim());
    expect([p.sub, p.name, [...p.scopes], p.events]).to.deep.equal(['bob', 'Bob', ['publish'], ['final']]);
  });

  it('token signs with the demo secret of the folder it runs in when no key is given', async () => {
    const demoDir = mkdtempSync(join(tmpdir(), 'holdline-demo-secret-'));
    try {
      const { secret } = demoSecret(demoDir);
      const r = await run([join(ROOT, 'bin/holdline.mjs'), 'token', '--sub', 'alice', '--scope', 'publish'], {}, 60_000, demoDir);
      expect(r.code).to.equal(0);
      expect(r.err).to.contain('.holdline/demo-secret');
      const p = await new Auth({ secret, issuer: null, audience: null }).verify(r.out.trim());
      expect([p.sub, [...p.scopes]]).to.deep.equal(['alice', ['publish']]);
      // JWT_SECRET, when set, wins over the demo's.
      const keyed = await run([join(ROOT, 'bin/holdline.mjs'), 'token', '--sub', 'alice'], { JWT_SECRET: TEST_SECRET }, 60_000, demoDir);
      await new Auth({ secret: TEST_SECRET, issuer: null, audience: null }).verify(keyed.out.trim());
    } finally {
      rmSync(demoDir, { recursive: true, force: true });
    }
  });

  it('exits 4 with the reason on bad configuration, a missing key or a port in use', async () => {
    // In a folder of its own: where `npm start` ran, the demo secret would be the key.
    const noKey = await run([join(ROOT, 'bin/holdline.mjs'), 'token', '--sub', 'bob'], {}, 60_000, dir);
    expect([noKey.code, noKey.out]).to.deep.equal([EXIT.config, '']);
    expect(noKey.err).to.contain('holdline token needs a key: set JWT_SECRET');
    const badFile = await run(['bin/holdline.mjs', 'token', '--private-key', join(dir, 'missing.pem')]);
    expect(badFile.code).to.equal(EXIT.config);
    expect(badFile.err).to.contain('cannot read --private-key').and.contain('ENOENT');
    const badEnv = await run(['bin/holdline.mjs', 'serve'], { PORT: 'eighty', JWT_SECRET: TEST_SECRET });
    expect(badEnv.code).to.equal(EXIT.config);
    expect(badEnv.err).to.contain('PORT');
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const busy = await run(['bin/holdline.mjs', 'serve', '--port', String(port), '--host', '127.0.0.1'], { JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' });
      expect(busy.code).to.equal(EXIT.config);
      expect(busy.err).to.contain(`127.0.0.1:${port} is in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('holdline simulate: what went wrong and what to do', function () {
  this.timeout(60_000);
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.url}/events/quiet`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Nothing happens', state: 'live' }),
    });
    expect(res.status).to.equal(201);
  });
  after(() => server.close());

  async function simulate(argv: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const output = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    const code = await runCli(['simulate', '--no-progress', '--viewers', '3', '--duration', '300ms', '--settle', '2s', ...argv], commandActions(output), output, {});
    return { code, out: out.join(''), err: err.join('') };
  }

  it('an unknown event: exit 6 at once, with the events there and how to check', async () => {
    const r = await simulate(['--url', server.url, '--event', 'nope']);
    expect(r.code).to.equal(EXIT.noEvent);
    expect(r.err).to.contain(`no event "nope" on ${server.url}`).and.contain(`curl -s ${server.url}/events`).and.contain('--token');
    expect(r.out).to.equal('');
  });

  it('publishing without a token: exit 7, saying how to get one', async () => {
    const r = await simulate(['--url', server.url, '--event', 'quiet', '--publish-rate', '10']);
    expect(r.code).to.equal(EXIT.token);
    expect(r.err).to.contain('--publish-rate needs a publisher token').and.contain('holdline token --sub simulator --scope publish');
  });

  it('a token the server refuses: exit 7', async () => {
    const viewer = await server.token({ sub: 'ann' });
    const r = await simulate(['--url', server.url, '--event', 'quiet', '--publish-rate', '10', '--token', viewer]);
    expect(r.code).to.equal(EXIT.token);
    expect(r.err).to.contain('PUT /events/quiet answered 403').and.contain('publish scope');
  });

  it('no server at the URL: exit 5, saying how to start one', async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await simulate(['--url', `http://127.0.0.1:${port}`, '--event', 'quiet']);
    expect(r.code).to.equal(EXIT.unreachable);
    expect(r.err).to.contain(`cannot reach a server at http://127.0.0.1:${port} (ECONNREFUSED)`).and.contain('holdline serve');
  });

  it('nothing published during the run: exit 8, saying latency needs a publisher', async () => {
    const r = await simulate(['--url', server.url, '--event', 'quiet']);
    expect(r.code).to.equal(EXIT.noPublisher);
    expect(r.out).to.contain('time to screen      not measured').and.contain('NOTHING MEASURED');
    expect(r.err).to.contain('Latency needs a publisher: pass --publish-rate');
  });

  it('with a publisher token it creates the event, publishes, measures and exits 0', async () => {
    const r = await simulate(['--url', server.url, '--event', 'sim-cli', '--publish-rate', '50', '--publishes', '5', '--token', server.adminToken]);
    expect(r.err).to.equal('');
    expect(r.code).to.equal(EXIT.ok);
    expect(r.out).to.match(/time to screen ms {3}p50 [\d.]+ .*\(15 samples/).and.contain('OK: every viewer got every delta once');
  });
});
