/**
 * Nchan (Debian's nginx with libnginx-mod-nchan), the bench's C reference: found or installed,
 * configured in its own temp directory on a free 127.0.0.1 port with one worker, started
 * pinned to a core, stopped by PID. Every bench row that has a Nchan column starts it here.
 *
 * Locations, one channel per event id:
 * - `POST /pub/:id` publishes a message (201 when a subscriber was waiting, 202 when queued);
 * - `GET /sub/:id` long-polls: each answer carries every message since the client's
 *   Last-Modified/Etag, several as one multipart/mixed body (`Accept: multipart/mixed` here
 *   would pick Nchan's streaming multipart subscriber, so long-polling has its own location);
 * - `GET /stream/:id` streams: EventSource (`Accept: text/event-stream`) or WebSocket (an Upgrade);
 * - `GET /healthz` answers 200.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, hasTaskset, type ServerProcess } from './proc.js';

const NGINX = '/usr/sbin/nginx';
const MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';

/** Where Nchan is, or why it cannot run here. */
export interface NchanInstall {
  nginx: string;
  module: string;
  /** nginx -v and the package's version, for the results file. */
  version: string;
}

/** The nginx binary and nchan module when both are installed, else null. */
export function findNchan(): NchanInstall | null {
  if (!existsSync(NGINX) || !existsSync(MODULE)) return null;
  // nginx -v writes to stderr.
  const sh = (cmd: string, args: string[]): string => {
    const run = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return `${run.stdout?.toString() ?? ''}${run.stderr?.toString() ?? ''}`.trim();
  };
  const nginx = sh(NGINX, ['-v']).replace(/^nginx version:\s*/, '') || '?';
  const nchan = sh('dpkg-query', ['-W', '-f=${Version}', 'libnginx-mod-nchan']) || '?';
  return { nginx: NGINX, module: MODULE, version: `${nginx}, libnginx-mod-nchan ${nchan}` };
}

/**
 * Installs nginx and libnginx-mod-nchan with apt-get on Debian (as root, or through sudo
 * without a password). Only called when the caller was allowed to (bench/run.ts
 * --install-nchan or BENCH_INSTALL_NCHAN=1), never on its own. Returns why not, or null.
 */
export function installNchan(log: (line: string) => void): string | null {
  if (!existsSync('/etc/debian_version')) return 'not a Debian system: install nginx with the nchan module by hand';
  const root = process.getuid?.() === 0;
  const prefix = root ? [] : ['sudo', '-n'];
  const run = (args: string[]): void => {
    const [cmd, ...rest] = [...prefix, ...args];
    execFileSync(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  try {
    log('installing nginx and libnginx-mod-nchan with apt-get');
    run(['apt-get', 'update', '-q']);
    run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'nginx', 'libnginx-mod-nchan']);
  } catch (err) {
    return `apt-get failed: ${((err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message).trim().split('\n').at(-1)}`;
  }
  return findNchan() ? null : 'apt-get ran but nginx or the nchan module is still missing';
}

/** What a Nchan server is configured with. */
export interface NchanOptions {
  /** Messages kept per channel (holdline's RING_SIZE). @default 1024 */
  bufferLength?: number;
  /** Seconds a long-poll is held before a 408 (holdline's HOLD_TIMEOUT_MS). @default 25 */
  holdSec?: number;
}

/** nginx.conf for one Nchan server in `dir` on `port`. */
export function nchanConfig(install: NchanInstall, dir: string, port: number, options: NchanOptions = {}): string {
  const buffer = options.bufferLength ?? 1024;
  const hold = options.holdSec ?? 25;
  return `load_module ${install.module};
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
# The open-file limit caps sockets, as it does for the Node servers.
worker_rlimit_nofile ${fileLimit()};
events { worker_connections ${Math.max(1024, fileLimit() - 100)}; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  client_body_buffer_size 64k;
  nchan_shared_memory_size 256m;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /healthz { return 200 "ok\\n"; }
    location ~ ^/pub/([^/]+)$ {
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length ${buffer};
      nchan_message_timeout 1h;
    }
    location ~ ^/sub/([^/]+)$ {
      nchan_subscriber longpoll;
      nchan_channel_id $1;
      nchan_subscriber_timeout ${hold}s;
      nchan_longpoll_multipart_response on;
    }
    location ~ ^/stream/([^/]+)$ {
      nchan_subscriber websocket eventsource;
      nchan_channel_id $1;
    }
  }
}
`;
}

function fileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim()) || 1024;
  } catch {
    return 1024;
  }
}

/** The worker's pid: the process that does the work, whose CPU and RSS the bench samples. */
function workerOf(master: number): number | null {
  try {
    const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length > 0 ? Number(children[0]) : null;
  } catch {
    return null;
  }
}

/**
 * Start one Nchan server pinned to `core` (null: unpinned; nginx's worker inherits the
 * master's affinity) and wait until /healthz answers. `pid` in the result is the worker's;
 * stop() ends the master by its own pid and removes the temp directory.
 */
export async function startNchan(install: NchanInstall, core: number | null, options: NchanOptions = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'holdline-nchan-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, nchanConfig(install, dir, port, options));
  const logFile = path.join(dir, 'nginx.out');
  const out = openSync(logFile, 'w');
  const argv = [install.nginx, '-c', conf, '-p', `${dir}/`, '-e', path.join(dir, 'error.log')];
  const command = core !== null && hasTaskset ? ['taskset', '-c', String(core), ...argv] : argv;
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // QUIT would wait for every held long-poll; TERM is nginx's fast shutdown.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  let worker: number | null = null;
  for (;;) {
    if (child.exitCode !== null) {
      const why = `${readTail(logFile)}\n${readTail(path.join(dir, 'error.log'))}`.trim();
      await stop();
      throw new Error(`nginx exited at start (${child.exitCode}): ${why}`);
    }
    worker ??= workerOf(child.pid!);
    if (worker !== null && (await healthy(url))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('nginx with nchan did not answer /healthz within 15 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { pid: worker, url, logFile: path.join(dir, 'error.log'), stop };
}

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-10).join('\n') : '';
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
