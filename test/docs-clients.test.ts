/**
 * docs/CLIENTS.md's examples, run as written against a real server: the Python follower (join,
 * follow, stop when the event ends), the Python token minter, and the curl follow loop.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auth } from '../lib/trust/auth.js';
import { HoldlineClient } from '../tools/client.js';
import { docExample } from './support/docs.js';
import { startTestServer, TEST_SECRET, type TestServer } from './support/server.js';

const clientsExample = (first: string): string => docExample('CLIENTS.md', first);

interface Proc {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves when stdout has a line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number>;
}

function start(command: string, args: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(command, args, { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const line = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = out.split('\n').find((l) => pattern.test(l));
        if (found === undefined) return false;
        clearInterval(timer);
        clearTimeout(limit);
        resolve(found);
        return true;
      };
      const timer = setInterval(check, 20);
      const limit = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${out}\n${err}`));
      }, timeoutMs);
      check();
    });
  return { child, out: () => out, err: () => err, line, exited };
}

describe('docs/CLIENTS.md examples, run as written', function () {
  this.timeout(60_000);
  let server: TestServer;
  let admin: HoldlineClient;
  let dir = '';
  const running: ChildProcess[] = [];

  before(async () => {
    server = await startTestServer();
    admin = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
    dir = mkdtempSync(join(tmpdir(), 'holdline-docs-'));
  });
  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follow.py joins, prints each delta as it comes, and stops when the event ends', async () => {
    await admin.putEvent('docs-py', { title: 'Python follower', state: 'live' });
    await admin.publish.score('docs-py', { op: 'set', data: { home: 0, away: 0 } });
    writeFileSync(join(dir, 'follow.py'), clientsExample('# follow.py'));
    const py = start('python3', ['follow.py', 'docs-py'], { HOLDLINE_URL: server.url }, dir);
    running.push(py.child);
    expect(await py.line(/^score now/)).to.equal('score now {"home": 0, "away": 0}');
    await admin.publish.score('docs-py', { op: 'patch', type: 'goal', data: { home: 1 } });
    expect(await py.line(/ score /)).to.match(/^\d+ score \{"home": 1\}$/);
    await admin.publish.end('docs-py');
    expect(await py.exited, py.err()).to.equal(0);
    expect(py.out()).to.match(/\d+ status \{"state": "ended"\}\n$/);
  });

  it('follow.py stops with the status and code when there is no such event', async () => {
    writeFileSync(join(dir, 'follow.py'), clientsExample('# follow.py'));
    const py = start('python3', ['follow.py', 'no-such-event'], { HOLDLINE_URL: server.url }, dir);
    running.push(py.child);
    expect(await py.exited).to.equal(1);
    expect(py.err()).to.equal('404 not_found\n');
  });

  it('mint.py signs an HS256 token the server accepts', async () => {
    writeFileSync(join(dir, 'mint.py'), clientsExample('# mint.py'));
    const py = start('python3', ['mint.py', 'ann', 'Ann'], { JWT_SECRET: TEST_SECRET }, dir);
    expect(await py.exited, py.err()).to.equal(0);
    const p = await new Auth({ secret: TEST_SECRET, issuer: null, audience: null }).verify(py.out().trim());
    expect([p.sub, p.name]).to.deep.equal(['ann', 'Ann']);
    // And the server takes it for chat, which needs a sub.
    const ann = new HoldlineClient({ baseUrl: server.url, token: py.out().trim() });
    await admin.putEvent('docs-chat', { title: 'Chat', state: 'live' });
    expect((await ann.chat('docs-chat', 'hello from Python')).seq).to.be.a('number');
  });

  it('the curl loop follows until the event goes away', async () => {
    await admin.putEvent('docs-curl', { title: 'curl follower', state: 'live' });
    const block = clientsExample('curl -s');
    const loop = block.trimEnd().split('\n').slice(-3).join('\n').replaceAll('http://127.0.0.1:8080', server.url).replaceAll('demo-football', 'docs-curl');
    expect(loop).to.match(/^# follow for ever/);
    const sh = start('bash', ['-c', loop], {}, dir);
    running.push(sh.child);
    // The join prints nothing (no deltas): publish once presence shows the loop has joined.
    for (let i = 0; i < 400; i++) {
      const { viewers } = (await (await fetch(`${server.url}/events/docs-curl/presence`)).json()) as { viewers: number };
      if (viewers > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await admin.publish.score('docs-curl', { op: 'set', data: { home: 2 } });
    expect(JSON.parse(await sh.line(/"kind":"score"/))).to.deep.include({ kind: 'score', data: { home: 2 } });
    await admin.deleteEvent('docs-curl');
    // curl -f fails on the 404 that follows, which ends the while loop.
    expect(await sh.exited).to.equal(0);
  });
});
