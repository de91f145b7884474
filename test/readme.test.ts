import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The shell commands of the README's first screen (every ```sh block before "## Configuration"),
 * one per entry, continuation lines joined and comments dropped: what a newcomer types.
 */
export function firstScreenCommands(readme: string): string[] {
  const top = readme.slice(0, readme.indexOf('\n## Configuration'));
  const out: string[] = [];
  for (const block of top.matchAll(/```sh\n([\s\S]*?)```/g)) {
    let pending = '';
    for (const raw of block[1]!.split('\n')) {
      const line = pending + raw;
      if (line.endsWith('\\')) {
        pending = `${line.slice(0, -1)}`;
        continue;
      }
      pending = '';
      const command = line.replace(/\s+#.*$/, '').trim();
      if (command !== '' && !command.startsWith('#')) out.push(command);
    }
  }
  return out;
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The repository as a fresh clone has it: the tracked files (as they are on disk), nothing ignored. */
function freshCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdline-readme-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  return dir;
}

describe('the README\'s first screen, run as written on a fresh checkout', function () {
  this.timeout(240_000);
  let dir: string;
  let server: ChildProcess | null = null;
  let serverErr = '';

  after(() => {
    // npm start runs node under npm: stop the whole group it leads.
    if (server?.pid !== undefined && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs, starts the demo, follows, publishes and mints with the commands it shows', async () => {
    const commands = firstScreenCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(commands.slice(0, 2), 'the README starts with install and start').to.deep.equal(['npm ci', 'npm start']);
    expect(commands.length).to.be.greaterThan(6);
    dir = freshCheckout();
    const port = await freePort();
    // `npm ci` would fetch the registry; the installed tree is what it would make.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');

    // `npm start`, as typed, in the background: the README's other commands are a second terminal.
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
    for (const k of ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL', 'REDIS_URL', 'LOG_LEVEL', 'LOG_REQUESTS']) delete env[k];
    server = spawn('sh', ['-c', 'npm start'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let serverOut = '';
    server.stdout!.on('data', (c: Buffer) => (serverOut += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (serverErr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (serverErr.includes('Ctrl-C stops')) {
          clearInterval(check);
          resolve();
        } else if (server!.exitCode !== null) {
          clearInterval(check);
          reject(new Error(`npm start exited ${server!.exitCode}:\n${serverOut}\n${serverErr}`));
        }
      }, 200);
    });
    expect(existsSync(join(dir, '.holdline', 'demo-token')), 'the token file the README reads').to.equal(true);
    expect(serverErr, 'the token is printed once').to.contain(readFileSync(join(dir, '.holdline', 'demo-token'), 'utf8').trim());

    // The rest, in one shell (variables carry from line to line), each command's output and exit status marked.
    const rest = commands.slice(2).map((c) => c.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`));
    const script = rest.map((c, i) => `${c}\n__rc=$?; echo; echo "@@${i} $__rc"`).join('\n');
    const output = execFileSync('bash', ['-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const parts = output.split(/^@@(\d+) (\d+)$/m);
    for (let i = 0; i < rest.length; i++) {
      const text = parts[i * 3]!.trim();
      const status = parts[i * 3 + 2];
      expect(status, `exit status of: ${rest[i]}\n${text}`).to.equal('0');
      expect(text, `no error answer from: ${rest[i]}`).not.to.match(/"error"\s*:/);
      if (rest[i]!.startsWith('curl')) expect(text, `an answer from: ${rest[i]}`).not.to.equal('');
    }
    // The publishes reached the server: the event exists with the README's goal and notices.
    const final = (await (await fetch(`http://127.0.0.1:${port}/events/final`)).json()) as { snapshot: { score: { home?: number } } };
    expect(final.snapshot.score.home).to.equal(1);
    // Quiet: no request line at info in the terminal (debug in demo mode).
    const infoRequests = serverOut.split('\n').filter((l) => l.includes('"msg":"request"') && l.includes('"level":"info"'));
    expect(infoRequests, 'request lines at info').to.deep.equal([]);
  });
});
