/**
 * The package as a user gets it: `npm pack`, then the tarball installed into a new project and
 * globally (into a temporary prefix), the `holdline` command run from both, the Node client
 * imported under Node against a server the installed package runs, its types checked by tsc,
 * and the browser module bundled with esbuild into a page Chromium loads and follows an event in.
 * Dependencies come from the npm cache where it has them, else from the npm registry.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Auth } from '../lib/trust/auth.js';
import { HoldlineClient } from '../tools/client.js';
import { launchBrowser, openAt, waitText, type Browser } from './support/browser.js';
import { docExample } from './support/docs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const SECRET = 'package-test-secret-0123456789abcdef-0123';
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs a command to its end (npm through its own CLI, everything else as given). */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

async function ok(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const r = await run(command, args, cwd, env);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.out}\n${r.err}`);
  return r.out;
}

/** `holdline serve` from the installed package on a free port; resolves with its URL once listening. */
function serve(bin: string, cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(bin, ['serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', JWT_SECRET: SECRET, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holdline serve did not listen within 60 s:\n${out}${err}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      for (const line of out.split('\n')) {
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url });
        return;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holdline serve exited ${code}:\n${out}${err}`));
    });
  });
}

describe('the npm package, installed from its tarball', function () {
  this.timeout(600_000);
  let dir = '';
  let tarball = '';
  let files: string[] = [];
  let app = '';
  let globalBin = '';
  let server: { child: ChildProcess; url: string } | null = null;
  let admin: HoldlineClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdline-package-'));
    // What `npm pack` runs (prepack builds), as a user or a publish would.
    const packed = JSON.parse(await ok('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await ok('npm', ['install', tarball, ...NPM_FLAGS], app);
    await ok('npm', ['install', '--global', '--prefix', join(dir, 'global'), tarball, ...NPM_FLAGS], dir);
    globalBin = join(dir, 'global', 'bin', 'holdline');
    server = await serve(join(app, 'node_modules', '.bin', 'holdline'), app);
    const auth = new Auth({ secret: SECRET, issuer: null, audience: null });
    admin = new HoldlineClient({ baseUrl: server.url, token: await auth.mint({ sub: 'admin', scope: 'publish admin' }) });
  });

  after(async () => {
    if (server && server.child.exitCode === null) {
      const exited = new Promise((resolve) => server!.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the bin, the built server, the clients with their types and the served files, and no sources', () => {
    for (const f of ['bin/holdline.mjs', 'dist/bin/holdline.js', 'dist/tools/client.js', 'dist/tools/client.d.ts', 'dist/lib/protocol.d.ts', 'dist/browser/index.js', 'dist/browser/index.d.ts', 'dist/public/holdline.js', 'dist/public/holdline.d.ts', 'dist/public/widget.js', 'dist/public/demo/index.html', 'docs/CLIENTS.md', 'package.json', 'README.md']) {
      expect(files, f).to.include(f);
    }
    const strays = files.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /^(test|bench|lib|tools|dist\/bench|dist\/test)\//.test(f));
    expect(strays).to.deep.equal([]);
  });

  it('gives a working holdline installed globally: --version, --help, token', async () => {
    expect(await ok(globalBin, ['--version'], dir)).to.equal(`${PKG.version}\n`);
    expect(await ok(globalBin, ['simulate', '--help'], dir)).to.match(/^Usage: holdline simulate/);
    const typo = await run(globalBin, ['token', '--scpoe', 'publish'], dir, { JWT_SECRET: SECRET });
    expect([typo.code, typo.out]).to.deep.equal([2, '']);
    const token = (await ok(globalBin, ['token', '--sub', 'g', '--scope', 'publish'], dir, { JWT_SECRET: SECRET })).trim();
    const p = await new Auth({ secret: SECRET, issuer: null, audience: null }).verify(token);
    expect([p.sub, [...p.scopes]]).to.deep.equal(['g', ['publish']]);
  });

  it('gives a working holdline in the project (npx holdline) that serves the browser client and the widget', async () => {
    expect(await ok('npx', ['--no-install', 'holdline', '--version'], app)).to.equal(`${PKG.version}\n`);
    for (const path of ['/holdline.js', '/holdline.d.ts', '/widget.js']) {
      const res = await fetch(server!.url + path);
      expect(res.status, path).to.equal(200);
    }
  });

  it('imports the Node client as holdline/client and follows an event with it under Node', async () => {
    await admin.putEvent('pkg-node', { title: 'Package test', state: 'live' });
    writeFileSync(
      join(app, 'follow.mjs'),
      `import { HoldlineClient, HoldlineHttpError } from 'holdline/client';
import Holdline, { create, mergePatch } from 'holdline/browser';
const viewer = new HoldlineClient({ baseUrl: process.env.URL, viewer: 'node-1' });
const joined = await viewer.poll('pkg-node', null);
process.stdout.write('joined\\n');
const next = await viewer.poll('pkg-node', joined.cursor, { timeoutS: 20 });
let refused = null;
try { await viewer.poll('no-such-event', null); } catch (err) { refused = err instanceof HoldlineHttpError ? err.status : String(err); }
console.log(JSON.stringify({
  score: next.deltas.map((d) => d.data),
  refused,
  browser: typeof create === 'function' && typeof Holdline.create === 'function',
  merged: mergePatch({ home: 1, away: 0 }, { away: 2 }),
  global: typeof globalThis.Holdline,
}));
`,
    );
    const child = spawn(process.execPath, ['follow.mjs'], { cwd: app, env: { PATH: process.env['PATH'] ?? '', URL: server!.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    // Publish once the follower is holding its poll.
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('joined\n')) resolve();
      });
      void exited.then(() => reject(new Error(`follow.mjs exited before joining:\n${out}${err}`)));
    });
    await admin.publish.score('pkg-node', { op: 'patch', type: 'goal', data: { home: 1 } });
    expect(await exited, err).to.equal(0);
    const result = JSON.parse(out.split('\n').filter((l) => l.startsWith('{')).pop()!) as Record<string, unknown>;
    expect(result).to.deep.equal({ score: [{ home: 1 }], refused: 404, browser: true, merged: { home: 1, away: 2 }, global: 'undefined' });
  });

  it("runs docs/CLIENTS.md's Node example as written: join, follow, stop when the event ends", async () => {
    await admin.putEvent('pkg-docs', { title: 'Docs example', state: 'live' });
    writeFileSync(join(app, 'docs-follow.mjs'), docExample('CLIENTS.md', '// follow.mjs'));
    const child = spawn(process.execPath, ['docs-follow.mjs', 'pkg-docs'], { cwd: app, env: { PATH: process.env['PATH'] ?? '', HOLDLINE_URL: server!.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('score now')) resolve();
      });
      void exited.then(() => reject(new Error(`the example exited before joining:\n${out}${err}`)));
    });
    await admin.publish.score('pkg-docs', { op: 'patch', type: 'goal', data: { home: 1 } });
    await admin.publish.end('pkg-docs');
    expect(await exited, err).to.equal(0);
    expect(out).to.match(/^score now \{\}\n\d+ score \{"home":1\}\n\d+ status \{"state":"ended"\}\n$/);
  });

  it('types both clients for TypeScript users (tsc finds them through the exports map)', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false }, files: ['check.ts'] }),
    );
    writeFileSync(
      join(app, 'check.ts'),
      `import { HoldlineClient, HoldlineHttpError } from 'holdline/client';
import Holdline, { create, type Model, type Options } from 'holdline/browser';
const client = new HoldlineClient({ baseUrl: 'http://127.0.0.1:8080', token: 't' });
export async function follow(): Promise<number> {
  const answer = await client.poll('m1', null, { timeoutS: 25 });
  const cursor: string = answer.cursor;
  // @ts-expect-error a poll takes an event id string, not a number
  await client.poll(42, cursor);
  return answer.deltas.length;
}
export const isRefusal = (err: unknown): boolean => err instanceof HoldlineHttpError && err.status === 404;
const options: Options = { baseUrl: 'https://live.example.com', events: ['m1'] };
const browser = create(options).on('score', (eventId: string, _delta, model: Model) => console.log(eventId, model.score));
// @ts-expect-error state is read-only
browser.state = 'live';
export const version: string = Holdline.version;
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    expect(r.out + r.err).to.equal('');
    expect(r.code).to.equal(0);
  });

  describe('in Chromium', function () {
    let browser: Browser;
    before(async function () {
      browser = await launchBrowser(this);
    });
    after(async () => browser?.close());

    it('a page bundled by esbuild from holdline/browser follows an event', async () => {
      await admin.putEvent('pkg-web', { title: 'Bundled page', state: 'live' });
      writeFileSync(
        join(app, 'page.js'),
        `import { create } from 'holdline/browser';
const client = create({ baseUrl: location.origin, events: ['pkg-web'] });
client.on('state', (s) => (document.getElementById('state').textContent = s));
client.on('update', (_id, model) => (document.getElementById('score').textContent = model.score.home + '-' + model.score.away));
client.start();
document.getElementById('global').textContent = typeof window.Holdline;
`,
      );
      const bundle = await build({ absWorkingDir: app, entryPoints: ['page.js'], bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'silent' });
      const page = await browser.page();
      await page.route(`${server!.url}/bundled/page.js`, (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: bundle.outputFiles[0]!.text }));
      await openAt(page, `${server!.url}/bundled/`, '<!DOCTYPE html><meta charset="utf-8"><p id="state"></p><p id="score"></p><p id="global"></p><script src="/bundled/page.js"></script>');
      await waitText(page, '#state', 'live', 20_000);
      await admin.publish.score('pkg-web', { op: 'set', data: { home: 2, away: 1 } });
      await waitText(page, '#score', '2-1', 10_000);
      expect(await page.textContent('#global')).to.equal('undefined');
      await page.close();
    });

    it('a legacy page with one script tag (holdline/browser/script) still gets window.Holdline', async () => {
      await admin.putEvent('pkg-legacy', { title: 'Legacy page', state: 'live' });
      const script = readFileSync(join(app, 'node_modules', 'holdline', 'dist', 'public', 'holdline.js'), 'utf8');
      expect(script).to.equal(readFileSync(join(ROOT, 'public', 'holdline.js'), 'utf8'));
      const page = await browser.page();
      await page.route(`${server!.url}/legacy/holdline.js`, (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: script }));
      await openAt(
        page,
        `${server!.url}/legacy/`,
        `<!DOCTYPE html><meta charset="utf-8"><p id="state"></p><p id="score"></p><script src="/legacy/holdline.js"></script>
<script>var c = Holdline.create({ baseUrl: location.origin, events: ['pkg-legacy'] });
c.on('state', function (s) { document.getElementById('state').textContent = s; });
c.on('update', function (id, m) { document.getElementById('score').textContent = m.score.home + '-' + m.score.away; });
c.start();</script>`,
      );
      await waitText(page, '#state', 'live', 20_000);
      await admin.publish.score('pkg-legacy', { op: 'set', data: { home: 0, away: 3 } });
      await waitText(page, '#score', '0-3', 10_000);
      await page.close();
    });
  });
});
