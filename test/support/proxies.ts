import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

/**
 * Our own nginx and squid in front of a test server, as holdline's users meet them: each with
 * its config in a temp dir, on a free 127.0.0.1 port, started in the foreground and stopped by
 * its own PID. Without the binary the suite is skipped on a developer's machine and fails in CI
 * (CI=true), which installs both (.ci/run).
 */
export const NGINX = '/usr/sbin/nginx';
export const SQUID = '/usr/sbin/squid';

export interface RunningProxy {
  url: string;
  port: number;
  /** The proxy's access log lines so far (one per request it passed on or answered). */
  accessLog(): string[];
  close(): Promise<void>;
}

/** Skips (or, in CI, fails) the suite when `binary` is missing. */
export function requireBinary(ctx: Mocha.Context, binary: string, pkg: string): void {
  if (existsSync(binary)) return;
  if (process.env['CI'] === 'true') throw new Error(`${binary} is missing: CI must install it (apt-get install -y ${pkg})`);
  console.warn(`    (skipped: ${binary} is missing; apt-get install -y ${pkg})`);
  ctx.skip();
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts `argv`, waits until `port` accepts, and returns how to stop it (SIGTERM, then SIGKILL, by PID). */
async function run(argv: string[], port: number, dir: string, logs: string[]): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = logs.filter(existsSync).map((f) => readFileSync(f, 'utf8').split('\n').slice(-8).join('\n')).join('\n');
      await stop();
      throw new Error(`${argv[0]} did not start: ${stderr}\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stop };
}

function lines(file: string): () => string[] {
  return () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);
}

export interface NginxOptions {
  /** proxy_read_timeout: how long nginx waits for the upstream's next byte before answering 504. */
  readTimeoutS: number;
  /** Extra server-block directives (test-only locations). */
  extra?: string;
}

/**
 * nginx as a reverse proxy in front of `upstreamPort` with `proxy_read_timeout` and
 * `proxy_buffering off`, keep-alive to the upstream, as an ingress would be set up.
 */
export async function startNginx(upstreamPort: number, o: NginxOptions): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'holdline-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream holdline { server 127.0.0.1:${upstreamPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    ${o.extra ?? ''}
    location / {
      proxy_pass http://holdline;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_read_timeout ${o.readTimeoutS}s;
      proxy_buffering off;
    }
  }
}
`,
  );
  const { stop } = await run([NGINX, '-c', conf, '-p', `${dir}/`, '-e', join(dir, 'error.log')], port, dir, [join(dir, 'error.log')]);
  return { url: `http://127.0.0.1:${port}`, port, accessLog: lines(join(dir, 'access.log')), close: stop };
}

/** squid as a forward proxy with `read_timeout`, caching nothing, as a corporate proxy would be. */
export async function startSquid(o: { readTimeoutS: number }): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'holdline-squid-'));
  // Squid started as root drops to its own user, which must write its logs here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = join(dir, 'squid.conf');
  writeFileSync(
    conf,
    `http_port 127.0.0.1:${port}
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log stdio:${dir}/access.log
cache_store_log none
cache deny all
coredump_dir ${dir}
netdb_filename none
pinger_enable off
dns_nameservers 127.0.0.1
http_access allow all
read_timeout ${o.readTimeoutS} seconds
shutdown_lifetime 0 seconds
`,
  );
  const { stop } = await run([SQUID, '-N', '-f', conf], port, dir, [join(dir, 'cache.log')]);
  return { url: `http://127.0.0.1:${port}`, port, accessLog: lines(join(dir, 'access.log')), close: stop };
}
